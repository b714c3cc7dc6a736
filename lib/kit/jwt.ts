/**
 * Checking a JWT locally before it is sent: it must decode, and must not be expired or
 * not yet valid, so a stale CI token fails before any network call.
 *
 * @module
 */

import { ToolError } from "./errors.ts";

/**
 * The claims of a compact JWT, decoded without checking its signature (the service it
 * is sent to checks that). Decoding is three lines, so start-up does not load `jose` for it.
 */
export function decodeClaims(jwt: string): Record<string, unknown> {
  const parts = jwt.split(".");
  if (parts.length !== 3) throw new TypeError("not three parts");
  const bytes = Uint8Array.fromBase64(parts[1], { alphabet: "base64url" });
  const claims: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw new TypeError("the payload is not a JSON object");
  }
  return claims as Record<string, unknown>;
}

/**
 * Check a JWT locally before any request: it must decode, and must not be expired or not
 * yet valid. The signature is the receiving service's to check. Never quotes the token.
 */
export function checkJwt(jwt: string, source: string, now = Date.now()): void {
  let claims: { exp?: unknown; nbf?: unknown };
  try {
    claims = decodeClaims(jwt);
  } catch {
    throw new ToolError(
      "config",
      `${source} is not a well-formed JWT (three base64url parts with a JSON payload); check the variable the CI system sets`,
    );
  }
  const seconds = Math.floor(now / 1000);
  if (typeof claims.exp === "number" && claims.exp <= seconds) {
    throw new ToolError(
      "auth",
      `the JWT in ${source} expired at ${
        new Date(claims.exp * 1000).toISOString()
      }; JWT login was not attempted. Use a fresh token (the job's own, not a cached one)`,
    );
  }
  if (typeof claims.nbf === "number" && claims.nbf > seconds + 60) {
    throw new ToolError(
      "auth",
      `the JWT in ${source} is not valid before ${
        new Date(claims.nbf * 1000).toISOString()
      }; check the clocks`,
    );
  }
}
