/**
 * Reading a backend's HTTP answer defensively: redirects are refused (a redirect could
 * carry the request's credentials to a host the run never named, and the sandbox would
 * end such a run as an unexplained crash), and bodies are read with a byte limit, so a
 * broken or hostile service cannot make the tool hold gigabytes.
 *
 * @example
 * ```ts
 * const response = await fetch(url, { redirect: "manual" });
 * refuseRedirect(response, "Example GET /items");
 * const text = await readText(response, "Example GET /items");
 * ```
 *
 * @module
 */

import { ToolError } from "./errors.ts";

/**
 * Most bytes one answer may hold: 16 MiB, far above what the services themselves allow in
 * a value (AWS Secrets Manager 64 KiB, SSM Parameter Store 8 KiB, Key Vault 25 KiB,
 * HashiCorp Vault's integrated storage 1 MiB per entry by default) and above their list
 * pages, yet small enough that the answers in flight at once stay well within memory.
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** The limit as people read it, for messages and docs. */
export const MAX_RESPONSE_TEXT = "16 MiB";

function tooLarge(operation: string): ToolError {
  return new ToolError(
    "backend",
    `${operation}: the answer is larger than ${MAX_RESPONSE_TEXT}, the most the tool reads from one response; check that the address points at the service itself and not at something else`,
  );
}

/**
 * Throw a `backend` error when `response` is a redirect (fetch must be called with
 * `redirect: "manual"`), naming the target's host and `operation`. The body is discarded.
 */
export async function refuseRedirect(response: Response, operation: string): Promise<void> {
  if (response.status < 300 || response.status > 399) return;
  await response.body?.cancel().catch(() => {});
  const location = response.headers.get("location");
  let host = "an unnamed location";
  if (location !== null) {
    try {
      host = `host ${new URL(location, response.url || undefined).host}`;
    } catch {
      host = "an invalid location";
    }
  }
  throw new ToolError(
    "backend",
    `${operation} answered a redirect (HTTP ${response.status}) to ${host}; the tool never follows redirects, so credentials stay with the configured host: set the address to the server that answers directly (for HashiCorp Vault, the active node or its load balancer)`,
  );
}

/**
 * The body of `response` (a `fetch` answer) as text, reading at most `limit` bytes: a
 * larger body (by its `Content-Length` or as it streams) is cancelled and ends in a
 * `backend` error naming `operation`. Network errors while reading propagate unchanged
 * (retried by callers).
 */
export async function readText(
  response: Response,
  operation: string,
  limit: number = MAX_RESPONSE_BYTES,
): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge(operation);
  }
  if (response.body === null) return "";
  // `fetch` reads no more of a body than its declared length, so an unencoded one within
  // the limit is read in one piece (one read instead of one per chunk); a compressed one
  // can decode to far more, so it is counted as it streams.
  const encoding = response.headers.get("content-encoding");
  const length = response.headers.get("content-length");
  if (length !== null && /^\d+$/.test(length) && (encoding === null || encoding === "identity")) {
    return await response.text();
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(operation);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * The body of `response` parsed as JSON, read with {@linkcode readText}'s limit. Throws a
 * `SyntaxError` when it does not parse (callers decide whether that is worth a retry).
 */
export async function readJson(
  response: Response,
  operation: string,
  limit: number = MAX_RESPONSE_BYTES,
): Promise<unknown> {
  return JSON.parse(await readText(response, operation, limit));
}
