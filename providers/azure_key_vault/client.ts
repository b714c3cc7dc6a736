/**
 * The Key Vault data-plane REST calls this backend makes: `GET /secrets` (following
 * `nextLink`) and `GET /secrets/{name}`, with the bearer token from a
 * {@linkcode TokenCache}, retries for throttling and server errors, and one token refresh
 * after a 401.
 *
 * @module
 */

import { detail, ToolError } from "../../lib/kit/errors.ts";
import type { AdaptiveLimiter, RateGate, RateLimit } from "../../lib/kit/limiters.ts";
import { RetryableError, retryAfterMs, withRetry } from "../../lib/kit/retry.ts";
import { readJson, refuseRedirect } from "../../lib/kit/response.ts";
import { pageTokens } from "../../lib/kit/paging.ts";
import { hostPort } from "../../lib/kit/params.ts";
import type { FetchContext } from "../../lib/contract/provider.ts";
import type { TokenCache } from "../azure/auth.ts";
import { KEY_VAULT_API_VERSION } from "../azure/settings.ts";

/** A secret's attributes as Key Vault reports them (times in epoch seconds). */
export interface SecretAttributes {
  enabled?: boolean;
  exp?: number;
  nbf?: number;
  created?: number;
  updated?: number;
}

/** One item of `GET /secrets`. */
export interface SecretItem {
  /** The secret's name (the last segment of its id). */
  name: string;
  /** Its attributes. */
  attributes: SecretAttributes;
}

/** The answer of `GET /secrets/{name}`. */
export type SecretResult =
  | { kind: "value"; value: string; version?: string; attributes: SecretAttributes }
  | { kind: "missing" }
  | { kind: "refused"; reason: string };

/** What one Key Vault call needs. */
export interface KeyVaultClient {
  /** The vault's base URL. */
  vault: URL;
  /** The load's tokens. */
  tokens: TokenCache;
  /** The fetch context (deadline, timeouts, logs). */
  ctx: FetchContext;
  /** Paces every request under the vault's transaction quota. */
  gate?: RateGate;
  /** Bounds value reads; halved on throttling. */
  limiter?: AdaptiveLimiter;
}

/** Key Vault's documented quota: 4,000 secret transactions per 10 seconds per vault. */
export const KEY_VAULT_QUOTA: RateLimit = { limit: 4000, windowMs: 10_000 };

interface KvError {
  code?: string;
  message?: string;
  inner?: string;
}

type Answer =
  | { status: 200; body: unknown }
  | { status: 401 }
  | { status: 403; error: KvError }
  | { status: 404; error: KvError };

async function readError(response: Response, operation: string): Promise<KvError> {
  try {
    const body = await readJson(response, operation) as { error?: Record<string, unknown> };
    const error = body?.error as
      | { code?: unknown; message?: unknown; innererror?: { code?: unknown } }
      | undefined;
    return {
      code: typeof error?.code === "string" ? error.code : undefined,
      message: typeof error?.message === "string" ? error.message : undefined,
      inner: typeof error?.innererror?.code === "string" ? error.innererror.code : undefined,
    };
  } catch (error) {
    if (error instanceof ToolError) throw error;
    return {};
  }
}

function describe(error: KvError, status: number): string {
  const parts = [`HTTP ${status}`, error.code, error.inner].filter(Boolean);
  return parts.join(" ");
}

type Final = Exclude<Answer, { status: 401 }>;

async function call(client: KeyVaultClient, url: URL, operation: string): Promise<Final> {
  const { ctx } = client;
  let token = await client.tokens.get();
  for (let pass = 1;; pass++) {
    const bearer = token;
    const attempt = async (signal: AbortSignal): Promise<Answer> => {
      const response = await fetch(url, {
        headers: { Authorization: `Bearer ${bearer}`, Accept: "application/json" },
        signal,
        redirect: "manual",
      });
      await refuseRedirect(response, `Azure Key Vault ${operation}`);
      if (response.ok) {
        let body: unknown;
        try {
          body = await readJson(response, `Azure Key Vault ${operation}`);
        } catch (error) {
          if (error instanceof ToolError) throw error;
          throw new RetryableError(`${operation}: the answer was cut off or is not JSON`);
        }
        return { status: 200, body };
      }
      if (response.status === 401) {
        await response.body?.cancel();
        return { status: 401 };
      }
      const error = await readError(response, `Azure Key Vault ${operation}`);
      if (response.status === 403) return { status: 403, error };
      if (response.status === 404) return { status: 404, error };
      if (response.status === 429) {
        client.gate?.throttled();
        client.limiter?.throttled();
      }
      if (response.status === 429 || response.status >= 500) {
        throw new RetryableError(
          `${operation}: ${describe(error, response.status)}`,
          retryAfterMs(response),
        );
      }
      throw new ToolError(
        "backend",
        `Azure Key Vault ${operation} failed: ${describe(error, response.status)}${
          error.message ? ` (${detail(error.message)})` : ""
        }`,
      );
    };
    const gate = client.gate;
    const answer = await withRetry<Answer>(
      (signal) => gate ? gate.run(() => attempt(signal)) : attempt(signal),
      {
        operation: `Azure Key Vault ${operation}`,
        deadline: ctx.settings.deadline,
        timeoutMs: ctx.settings.requestTimeoutMs,
        signal: ctx.signal,
        onRetry: (cause, n, delay) =>
          ctx.log.debug(`${operation}: retry ${n} in ${Math.round(delay)}ms: ${cause}`),
        target: hostPort(url),
      },
    );
    if (answer.status !== 401) return answer;
    if (pass === 2) {
      throw new ToolError(
        "auth",
        `Azure Key Vault ${client.vault.host} refused a fresh token for ${operation} (HTTP 401); the identity's token is not valid for this vault: check the tenant and that the vault is in it`,
      );
    }
    ctx.log.debug(`${operation}: HTTP 401, asking for a fresh token once`);
    token = await client.tokens.refresh(bearer);
  }
}

function denied(client: KeyVaultClient, operation: string, permission: string, error: KvError) {
  return new ToolError(
    "auth",
    `Azure Key Vault ${client.vault.host} denied ${operation} (${
      describe(error, 403)
    }): the identity lacks the secrets ${permission} permission; grant it the "Key Vault Secrets User" role on the vault (RBAC) or an access policy with secret permissions list and get`,
  );
}

/** The name in a secret id such as `https://v.vault.azure.net/secrets/NAME[/VERSION]`. */
export function nameFromId(id: string): string | undefined {
  const match = /\/secrets\/([0-9A-Za-z-]+)(\/[0-9A-Za-z]*)?\/?$/.exec(id);
  return match?.[1];
}

function attributesOf(value: unknown): SecretAttributes {
  if (typeof value !== "object" || value === null) return {};
  const a = value as Record<string, unknown>;
  const num = (v: unknown) => typeof v === "number" ? v : undefined;
  return {
    enabled: typeof a.enabled === "boolean" ? a.enabled : undefined,
    exp: num(a.exp),
    nbf: num(a.nbf),
    created: num(a.created),
    updated: num(a.updated),
  };
}

/**
 * Every secret in the vault, page by page (`maxresults=25`, the service maximum). The
 * next page is requested as soon as a page arrives, so listing overlaps the fetches the
 * caller starts for the items already yielded.
 */
export async function* listSecrets(client: KeyVaultClient): AsyncGenerator<SecretItem> {
  const first = new URL(`${client.vault.origin}/secrets`);
  first.searchParams.set("api-version", KEY_VAULT_API_VERSION);
  first.searchParams.set("maxresults", "25");
  const page = async (url: URL, n: number) => {
    const answer = await call(client, url, `list secrets (page ${n})`);
    if (answer.status === 403) throw denied(client, "listing secrets", "list", answer.error);
    if (answer.status === 404) {
      throw new ToolError(
        "backend",
        `Azure Key Vault ${client.vault.host} answered 404 to listing secrets (${
          describe(answer.error, 404)
        }); check SECRETS_AZURE_KEY_VAULT_URL`,
      );
    }
    return answer.body as { value?: unknown; nextLink?: unknown };
  };
  let n = 1;
  const links = pageTokens(`Azure Key Vault ${client.vault.host} list secrets`, "nextLink");
  let pending: Promise<{ value?: unknown; nextLink?: unknown }> | undefined = page(first, n);
  while (pending) {
    const body = await pending;
    pending = undefined;
    if (typeof body.nextLink === "string" && body.nextLink !== "") {
      links.follow(body.nextLink);
      const next = new URL(body.nextLink);
      if (next.origin !== client.vault.origin) {
        throw new ToolError(
          "backend",
          `Azure Key Vault ${client.vault.host} sent a nextLink to another host (${next.host}); refusing to send the token there`,
        );
      }
      if (!next.searchParams.has("api-version")) {
        next.searchParams.set("api-version", KEY_VAULT_API_VERSION);
      }
      const prefetch = page(next, ++n);
      prefetch.catch(() => {}); // rethrown when awaited
      pending = prefetch;
    }
    if (!Array.isArray(body.value)) {
      throw new ToolError(
        "backend",
        `Azure Key Vault ${client.vault.host}: a list page has no "value" array`,
      );
    }
    links.count(body.value.length);
    for (const item of body.value) {
      const id = typeof item?.id === "string" ? item.id : "";
      const name = nameFromId(id);
      if (!name) {
        throw new ToolError(
          "backend",
          `Azure Key Vault ${client.vault.host}: a listed secret has an unexpected id ${
            JSON.stringify(id.slice(0, 200))
          }`,
        );
      }
      yield { name, attributes: attributesOf(item.attributes) };
    }
  }
}

/**
 * Key Vault's 403 inner codes for a secret it will not hand out whatever the permissions:
 * disabled (documented), and expired / not yet valid (documented as possible, though the
 * service returns expired secrets today).
 */
const REFUSALS: Readonly<Record<string, string>> = {
  SecretDisabled: "is disabled",
  SecretExpired: "has expired and Key Vault refuses to read it",
  SecretNotYetValid: "is not yet valid and Key Vault refuses to read it",
};

/**
 * The current value of one secret, or of `version` (`GET secrets/{name}/{version}`); a 404 or
 * a disabled secret is reported, not thrown.
 */
export async function getSecret(
  client: KeyVaultClient,
  name: string,
  version?: string,
): Promise<SecretResult> {
  const below = version === undefined ? "" : `/${encodeURIComponent(version)}`;
  const url = new URL(`${client.vault.origin}/secrets/${encodeURIComponent(name)}${below}`);
  url.searchParams.set("api-version", KEY_VAULT_API_VERSION);
  const answer = await call(client, url, `get secret "${name}"`);
  if (answer.status === 404) {
    if (answer.error.code === "SecretNotFound" || answer.error.code === undefined) {
      return { kind: "missing" };
    }
    throw new ToolError(
      "backend",
      `Azure Key Vault ${client.vault.host}: get secret "${name}" answered ${
        describe(answer.error, 404)
      }; check SECRETS_AZURE_KEY_VAULT_URL`,
    );
  }
  if (answer.status === 403) {
    const reason = REFUSALS[answer.error.inner ?? ""];
    if (reason) return { kind: "refused", reason };
    throw denied(client, `reading secret "${name}"`, "get", answer.error);
  }
  const body = answer.body as { value?: unknown; id?: unknown; attributes?: unknown };
  if (typeof body.value !== "string") {
    throw new ToolError(
      "backend",
      `Azure Key Vault ${client.vault.host}: secret "${name}" came back without a value`,
    );
  }
  const id = typeof body.id === "string" ? body.id : "";
  const read = /\/secrets\/[^/]+\/([0-9A-Za-z]+)$/.exec(id)?.[1];
  return {
    kind: "value",
    value: body.value,
    version: read,
    attributes: attributesOf(body.attributes),
  };
}
