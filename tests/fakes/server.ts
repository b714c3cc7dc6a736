/**
 * A small HTTP server for fakes: listens on 127.0.0.1 with a random port, counts
 * requests and the peak number in flight, and can add latency to every answer.
 *
 * @module
 */

/**
 * A wait of `ms` that ends as close after `ms` as this runtime allows, never before. Deno's
 * timers fire about a millisecond late (a 1 ms clock, rounded up): `setTimeout(10)` ended
 * after 11.3 ms (median), which made every round of a fake 1.3 ms longer than the L the
 * floors count. The timer is set 1 ms short; when it still fires before the time, the last
 * fraction of a millisecond is waited out in turns of the event loop. Measured: 10.38 ms
 * median, 10.52 p90, never under 10.
 */
export function latencyWait(ms: number): Promise<void> {
  const due = performance.now() + ms;
  return new Promise((resolve) => {
    let channel: MessageChannel | undefined;
    const check = () => {
      if (performance.now() < due) {
        if (channel === undefined) {
          channel = new MessageChannel();
          channel.port1.onmessage = check;
        }
        channel.port2.postMessage(0);
        return;
      }
      channel?.port1.close();
      resolve();
    };
    setTimeout(check, Math.max(0, ms - 1));
  });
}

/** A handler for one request. */
export type FakeHandler = (request: Request, info: { remoteAddr: Deno.NetAddr }) =>
  | Response
  | Promise<Response>;

/** Options for {@linkcode startFake}. */
export interface FakeOptions {
  /**
   * Latency of every answer, in milliseconds from the request's arrival (default 0): the
   * answer leaves after this or after the handler's own time, whichever is longer.
   */
  latencyMs?: number;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
}

/** A running fake server. */
export interface Fake {
  /** Its base URL, e.g. `http://127.0.0.1:43123`. */
  url: string;
  /** Its port. */
  port: number;
  /** Requests answered so far. */
  readonly requests: number;
  /** The most requests seen in flight at once. */
  readonly peakConcurrency: number;
  /** When the first request arrived (`performance.now()`), or NaN before any. */
  readonly firstRequestAt: number;
  /** When the last answer was handed back (`performance.now()`), or NaN before any. */
  readonly lastAnswerAt: number;
  /** Every request line seen (`METHOD /path?query`), in order. */
  readonly log: string[];
  /** Stop the server. */
  close(): Promise<void>;
}

/** Start a fake server on 127.0.0.1 with a random port. */
export function startFake(handler: FakeHandler, options: FakeOptions = {}): Fake {
  let requests = 0;
  let inFlight = 0;
  let peak = 0;
  let firstRequestAt = Number.NaN;
  let lastAnswerAt = Number.NaN;
  const log: string[] = [];
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
    },
    async (request, info) => {
      if (requests === 0) firstRequestAt = performance.now();
      requests++;
      inFlight++;
      peak = Math.max(peak, inFlight);
      const url = new URL(request.url);
      log.push(`${request.method} ${url.pathname}${url.search}`);
      // The latency runs from the request's arrival, while the handler works: an answer
      // leaves after max(latency, the handler's own time). The latency stands in for the
      // whole round trip of a cloud service, its processing included, so the fake's CPU
      // (signature checks, JSON) is not added on top of it.
      const latency = options.latencyMs ? latencyWait(options.latencyMs) : undefined;
      try {
        const response = await handler(request, info as { remoteAddr: Deno.NetAddr });
        await latency;
        return response;
      } catch (error) {
        await latency;
        return Response.json({ fakeError: String(error) }, { status: 500 });
      } finally {
        inFlight--;
        lastAnswerAt = performance.now();
      }
    },
  );
  const port = (server.addr as Deno.NetAddr).port;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    get peakConcurrency() {
      return peak;
    },
    get firstRequestAt() {
      return firstRequestAt;
    },
    get lastAnswerAt() {
      return lastAnswerAt;
    },
    log,
    close: () => server.shutdown(),
  };
}
