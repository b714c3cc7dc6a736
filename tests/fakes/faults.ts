/**
 * Fault injection for every fake: wrap a handler so that a seeded share of requests fail
 * the way real services and networks fail — throttling with the backend's own error body,
 * 503, a connection cut before any body byte, a request that never gets an answer, a body
 * cut short of its `Content-Length`, and a success answer whose JSON is broken.
 * Deterministic: the same seed gives the same sequence of decisions.
 *
 * ```ts
 * const vault = fakeVault(data);
 * const faulty = withFaults(vault.handler, { seed: 7, rate: 0.2, errors: VAULT_ERRORS });
 * const server = startFake(faulty.handler);
 * ```
 *
 * @module
 */

import type { FakeHandler } from "./server.ts";

/** The kinds of fault. */
export type FaultKind =
  | "throttle"
  | "unavailable"
  | "reset"
  | "hang"
  | "truncate"
  | "malformed";

/** Every fault kind, in a fixed order. */
export const FAULT_KINDS: readonly FaultKind[] = [
  "throttle",
  "unavailable",
  "reset",
  "hang",
  "truncate",
  "malformed",
];

/** Faults that a client should recover from by retrying (all of them). */
export const TRANSIENT_KINDS: readonly FaultKind[] = FAULT_KINDS;

/** An error answer: status, headers and JSON body, as the backend sends it. */
export interface ErrorAnswer {
  /** HTTP status. */
  status: number;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** The JSON body. */
  body: unknown;
}

/** A backend's throttling and unavailable answers. */
export interface BackendErrors {
  /** The answer to a throttled request (`Retry-After` is added when `retryAfter` is set). */
  throttle: ErrorAnswer;
  /** The answer when the service is unavailable. */
  unavailable: ErrorAnswer;
}

/**
 * AWS JSON 1.1 (Secrets Manager, SSM). Throttling is HTTP 400 with `__type`
 * `ThrottlingException` (the JSON protocol's client-error status; AWS sends no
 * `Retry-After`); unavailable is HTTP 503 `ServiceUnavailableException`.
 */
export const AWS_ERRORS: BackendErrors = {
  throttle: {
    status: 400,
    headers: { "x-amzn-ErrorType": "ThrottlingException" },
    body: { __type: "ThrottlingException", message: "Rate exceeded" },
  },
  unavailable: {
    status: 503,
    headers: { "x-amzn-ErrorType": "ServiceUnavailableException" },
    body: { __type: "ServiceUnavailableException", message: "Service is unavailable" },
  },
};

/** Azure Key Vault: 429 `Throttled` with `Retry-After`, 503 `ServiceUnavailable`. */
export const AZURE_ERRORS: BackendErrors = {
  throttle: {
    status: 429,
    body: {
      error: {
        code: "Throttled",
        message: "Operations per second limit reached. Retry after the Retry-After interval.",
      },
    },
  },
  unavailable: {
    status: 503,
    body: { error: { code: "ServiceUnavailable", message: "The service is unavailable." } },
  },
};

/**
 * Microsoft Entra ID token endpoint and IMDS (OAuth error bodies): 429 and 503
 * `temporarily_unavailable`.
 */
export const AZURE_IDENTITY_ERRORS: BackendErrors = {
  throttle: {
    status: 429,
    body: {
      error: "temporarily_unavailable",
      error_description: "Too many requests. Retry after the Retry-After interval.",
    },
  },
  unavailable: {
    status: 503,
    body: {
      error: "temporarily_unavailable",
      error_description: "The service is temporarily unavailable.",
    },
  },
};

/** HashiCorp Vault: 429 rate-limit quota with `Retry-After`, 503 from a standby node. */
export const VAULT_ERRORS: BackendErrors = {
  throttle: {
    status: 429,
    body: { errors: ['request path "secret/": rate limit quota exceeded'] },
  },
  unavailable: {
    status: 503,
    body: { errors: ["local node not active but active cluster node not found"] },
  },
};

/** Options for {@linkcode withFaults}. */
export interface FaultOptions {
  /** Seed of the decision sequence. */
  seed: number;
  /** Share of requests that fail, 0..1 (1 = every request: a persistent fault). */
  rate: number;
  /** Which kinds to draw from (default: all). */
  kinds?: readonly FaultKind[];
  /** The backend's error bodies (required for `throttle` and `unavailable`). */
  errors: BackendErrors;
  /**
   * `Retry-After` seconds on throttling answers; null sends none. Default: 1 when the
   * backend throttles with HTTP 429 (Azure, Vault), none otherwise (AWS sends none).
   */
  retryAfter?: number | null;
  /** Longest a hung request waits before the fake gives up on it, in ms (default 60 s). */
  hangMs?: number;
  /** Faults given, in this order, to the first requests, before any random draw. */
  sequence?: readonly FaultKind[];
  /** Only requests for which this returns true may fail (default: all). */
  applies?: (request: Request) => boolean;
}

/** What the wrapper counts. */
export interface FaultCounters {
  /** Requests seen. */
  requests: number;
  /** Requests passed to the wrapped handler untouched. */
  passed: number;
  /** Faults injected, by kind. */
  injected: Record<FaultKind, number>;
  /** Every request in arrival order: when it came and what it met. */
  timeline: { at: number; kind: FaultKind | "passed" }[];
}

/** A wrapped handler and its counters. */
export interface Faulty {
  /** The handler to give `startFake`. */
  handler: FakeHandler;
  /** Counters. */
  counters: FaultCounters;
  /** Stop injecting and release hung requests (call before closing the server). */
  stop(): void;
}

/** A small seeded PRNG (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function errorResponse(answer: ErrorAnswer, extra: Record<string, string> = {}): Response {
  const isAws = answer.headers?.["x-amzn-ErrorType"] !== undefined;
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: {
      "content-type": isAws ? "application/x-amz-json-1.1" : "application/json",
      ...answer.headers,
      ...extra,
    },
  });
}

/** A body that declares `declared` bytes but sends only `bytes`, then ends the connection. */
function shortBody(response: Response, bytes: Uint8Array, declared: number): Response {
  const headers = new Headers(response.headers);
  headers.set("content-length", String(declared));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
  return new Response(body, { status: response.status, headers });
}

function hang(request: Request, ms: number, hung: Set<() => void>): Promise<Response> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      hung.delete(done);
      resolve(new Response(null, { status: 504 }));
    };
    const timer = setTimeout(done, ms);
    hung.add(done);
    request.signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Wrap `handler` so that a seeded share of requests fail. `throttle` and `unavailable`
 * answer without calling the handler; `reset`, `truncate` and `malformed` call it and then
 * spoil its answer (a connection closed after the headers, half the body then the
 * connection closed, or a complete answer whose JSON is cut in half); `hang` never
 * answers until the client gives up.
 */
export function withFaults(handler: FakeHandler, options: FaultOptions): Faulty {
  const random = seededRandom(options.seed);
  const kinds = options.kinds ?? FAULT_KINDS;
  const retryAfter = options.retryAfter !== undefined
    ? options.retryAfter
    : options.errors.throttle.status === 429
    ? 1
    : null;
  const counters: FaultCounters = {
    requests: 0,
    passed: 0,
    injected: {
      throttle: 0,
      unavailable: 0,
      reset: 0,
      hang: 0,
      truncate: 0,
      malformed: 0,
    },
    timeline: [],
  };
  let stopped = false;
  let sequenced = 0;
  const hung = new Set<() => void>();
  const faulty: FakeHandler = async (request, info) => {
    counters.requests++;
    const eligible = !stopped && (options.applies?.(request) ?? true);
    let kind: FaultKind | undefined;
    if (eligible && sequenced < (options.sequence?.length ?? 0)) {
      kind = options.sequence![sequenced++];
    } else {
      const draw = random();
      const pick = random();
      if (eligible && draw < options.rate) kind = kinds[Math.floor(pick * kinds.length)];
    }
    counters.timeline.push({ at: Date.now(), kind: kind ?? "passed" });
    if (kind === undefined) {
      counters.passed++;
      return await handler(request, info);
    }
    counters.injected[kind]++;
    switch (kind) {
      case "throttle":
        return errorResponse(
          options.errors.throttle,
          retryAfter === null ? {} : { "Retry-After": String(retryAfter) },
        );
      case "unavailable":
        return errorResponse(options.errors.unavailable);
      case "hang":
        return await hang(request, options.hangMs ?? 60_000, hung);
    }
    const response = await handler(request, info);
    const bytes = new Uint8Array(await response.arrayBuffer());
    switch (kind) {
      case "reset":
        return shortBody(response, new Uint8Array(0), Math.max(1, bytes.length));
      case "truncate":
        return shortBody(response, bytes.subarray(0, bytes.length >> 1), Math.max(1, bytes.length));
      case "malformed": {
        if (!response.ok) return new Response(bytes, response);
        const cut = bytes.subarray(0, Math.max(1, bytes.length >> 1));
        const headers = new Headers(response.headers);
        headers.delete("content-length");
        return new Response(cut, { status: response.status, headers });
      }
    }
  };
  const stop = () => {
    stopped = true;
    for (const release of [...hung]) release();
  };
  return { handler: faulty, counters, stop };
}
