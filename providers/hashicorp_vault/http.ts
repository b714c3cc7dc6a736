/**
 * One request to Vault's HTTP API: the namespace and token headers, retries for 429 and
 * 5xx (a sealed node too) within the deadline, a clear error for a Vault that stays sealed or an untrusted certificate.
 * Response bodies never reach error messages, except Vault's own `errors` strings on
 * login endpoints (which carry no secret values).
 *
 * @module
 */

import { detail, ToolError } from "../../lib/kit/errors.ts";
import { networkCause, RetryableError, retryAfterMs, withRetry } from "../../lib/kit/retry.ts";
import { hostPort } from "../../lib/kit/params.ts";
import { readText, refuseRedirect } from "../../lib/kit/response.ts";
import type { ProviderLog } from "../../lib/contract/provider.ts";

/** What a request answered: its status and parsed JSON body (undefined when empty). */
export interface VaultResponse {
  /** HTTP status. */
  status: number;
  /** The parsed body. */
  body: VaultBody | undefined;
}

/** The parts of Vault's response envelope this backend reads. */
export interface VaultBody {
  /** Payload of reads, lists and `sys/internal/ui/mounts`. */
  data?: unknown;
  /** Payload of logins. */
  auth?: { client_token?: string; lease_duration?: number; renewable?: boolean };
  /** Error strings. */
  errors?: string[];
  /** Warnings. */
  warnings?: string[] | null;
}

/** A client bound to one Vault address, namespace and TLS setting. */
export interface VaultClient {
  /** Send `method` to `/v1/PATH`; returns the status and body for any status below 500 but 429. */
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; attempts?: number; deadline?: number },
  ): Promise<VaultResponse>;
  /** Release the HTTP client. */
  close(): void;
}

/** How to build a {@linkcode VaultClient}. */
export interface VaultClientOptions {
  /** Base URL without trailing slash. */
  url: string;
  /** Namespace sent as `X-Vault-Namespace`. */
  namespace?: string;
  /** PEM text of an extra CA. */
  caPem?: string;
  /** Overall deadline (epoch ms). */
  deadline: number;
  /** Per-request timeout (ms). */
  timeoutMs: number;
  /** Aborted at the overall deadline. */
  signal?: AbortSignal;
  /** For retry lines. */
  log: ProviderLog;
  /** Called on every 429 (a rate-limit quota), so the limiter backs off. */
  onThrottle?: () => void;
}

/** Whether a fetch failure is a TLS certificate problem (not worth retrying). */
export function isCertificateError(error: unknown): boolean {
  let text = "";
  for (let e: unknown = error; e instanceof Error; e = e.cause) text += ` ${e.message}`;
  return /certificate|UnknownIssuer|CertNotValid|NotValidForName|BadSignature/i.test(text);
}

/**
 * Read a JSON body. A success answer whose body does not parse was cut off or mangled on
 * the way (a proxy, a dropped connection): retried. Error bodies that do not parse are
 * classified by status alone.
 */
async function readBody(response: Response, operation: string): Promise<VaultBody | undefined> {
  const text = await readText(response, operation);
  if (text.trim() === "") return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? parsed as VaultBody : undefined;
  } catch {
    if (response.ok) throw new RetryableError("the answer is not complete JSON");
    return undefined;
  }
}

/** Whether a body says the Vault is sealed. */
function isSealed(body: VaultBody | undefined): boolean {
  return body?.errors?.some((e) => /vault is sealed/i.test(e)) ?? false;
}

/** Create a client. */
export function createVaultClient(options: VaultClientOptions): VaultClient {
  const client = options.caPem ? Deno.createHttpClient({ caCerts: [options.caPem] }) : undefined;
  return {
    request(method, path, request = {}) {
      const operation = `HashiCorp Vault ${method} ${path}`;
      // Whether the latest answer said sealed: a node of an HA cluster is briefly sealed
      // or standby during a failover, so it is retried like any 5xx, and only an answer
      // that stays sealed to the end gets the unseal advice.
      let sealed = false;
      const attempts = withRetry(async (signal) => {
        // X-Vault-Request guards Vault Agent listeners against SSRF; Vault ignores it.
        const headers: Record<string, string> = {
          "Accept": "application/json",
          "X-Vault-Request": "true",
        };
        if (request.token !== undefined) headers["X-Vault-Token"] = request.token;
        if (options.namespace) headers["X-Vault-Namespace"] = options.namespace;
        if (request.body !== undefined) headers["Content-Type"] = "application/json";
        let response: Response;
        try {
          response = await fetch(
            `${options.url}/v1/${path}`,
            {
              method,
              headers,
              body: request.body === undefined ? undefined : JSON.stringify(request.body),
              signal,
              client,
              redirect: "manual",
            } as RequestInit & { client?: Deno.HttpClient },
          );
        } catch (error) {
          if (isCertificateError(error)) {
            throw new ToolError(
              "backend",
              options.caPem
                ? `HashiCorp Vault: ${
                  networkCause(error, { target: hostPort(options.url) })
                }: the certificate cannot be verified against the system roots or the CA in SECRETS_HASHICORP_VAULT_CACERT (or it does not name this host); check the CA file and the address`
                : `HashiCorp Vault: ${
                  networkCause(error, { target: hostPort(options.url) })
                }: the certificate cannot be verified; if Vault uses a private CA, set SECRETS_HASHICORP_VAULT_CACERT to its PEM file`,
            );
          }
          throw error;
        }
        await refuseRedirect(response, operation);
        const body = await readBody(response, operation);
        // Kept until another answer comes: an attempt cut short by the deadline says nothing.
        sealed = response.status === 503 && isSealed(body);
        if (sealed) throw new RetryableError("HTTP 503 (vault is sealed)", retryAfterMs(response));
        if (response.status === 429) options.onThrottle?.();
        if (response.status === 429 || response.status >= 500) {
          throw new RetryableError(
            `HTTP ${response.status}${response.status === 429 ? " (rate-limit quota)" : ""}`,
            retryAfterMs(response),
          );
        }
        return { status: response.status, body };
      }, {
        operation,
        deadline: request.deadline ?? options.deadline,
        timeoutMs: options.timeoutMs,
        attempts: request.attempts,
        signal: request.deadline === undefined ? options.signal : undefined,
        onRetry: (cause, attempt, delay) =>
          options.log.debug(`retry ${attempt} in ${Math.round(delay)}ms: ${cause}`),
        target: hostPort(options.url),
      });
      return attempts.catch((error) => {
        if (!sealed) throw error;
        throw new ToolError(
          "backend",
          `HashiCorp Vault at ${options.url}: vault is sealed; unseal it (vault operator unseal) and run again (it stayed sealed through every retry of ${method} ${path})`,
        );
      });
    },
    close() {
      client?.close();
    },
  };
}

/** Vault's error strings from a body, joined and shortened, for login failures. */
export function vaultErrors(body: VaultBody | undefined): string {
  const errors = (body?.errors ?? []).filter((e) => typeof e === "string" && e.trim() !== "");
  if (errors.length === 0) return "no detail given";
  return detail(errors.join("; "));
}
