/**
 * Parsing parameter values: booleans, seconds, whole numbers, lists, URLs, and the paths
 * and `host:port` pairs derived from them. Every bad value is a `config` error naming the
 * parameter and what it accepts.
 *
 * @module
 */

import { ToolError } from "./errors.ts";
import type { ProviderSettings } from "../contract/provider.ts";

/** Accepted spellings of true and false in boolean parameters (any case). */
export const TRUE_WORDS: readonly string[] = ["1", "true", "yes", "on"];
/** Accepted spellings of false in boolean parameters (any case). */
export const FALSE_WORDS: readonly string[] = ["0", "false", "no", "off", ""];

/** Parse a boolean parameter (`1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`, any case). */
export function parseBool(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new ToolError(
    "config",
    `${name}=${JSON.stringify(value)} is not a boolean; use one of ${
      [...TRUE_WORDS, ...FALSE_WORDS.filter(Boolean)].join(", ")
    }`,
  );
}

/** Parse a positive number of seconds into milliseconds. */
export function parseSeconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === "") return fallback * 1000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new ToolError(
      "config",
      `${name}=${JSON.stringify(value)} is not a positive number of seconds`,
    );
  }
  return Math.round(seconds * 1000);
}

/** Split a comma-separated list, trimming items and dropping empty ones. */
export function splitList(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

/**
 * Parse a whole-number parameter between `min` and `max`; unset or empty gives `fallback`.
 *
 * @example
 * ```ts
 * parseWholeNumber("SECRETS_AWS_CONCURRENCY", "16", 8, 1, 64); // 16
 * ```
 */
export function parseWholeNumber(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const trimmed = text?.trim();
  if (!trimmed) return fallback;
  const value = Number(trimmed);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ToolError(
      "config",
      `${name}=${JSON.stringify(trimmed)} is not a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

/**
 * A configured URL as messages may quote it: JSON-quoted, with its user info and its query
 * string or fragment replaced by `***` (they often carry a password or a token, e.g.
 * `https://u:PW@host` or `...?auth=TOKEN`). Works on text that does not parse as a URL too.
 *
 * @example
 * ```ts
 * quoteUrl("ftp://u:PW@vault.example.com/x?token=abc"); // "\"ftp://***@vault.example.com/x?***\""
 * ```
 */
export function quoteUrl(text: string): string {
  const scrubbed = text.trim()
    .replace(/^((?:[A-Za-z][A-Za-z0-9+.-]*:)?(?:\/\/|\\\\)?)[^/\\?#]*@/, "$1***@")
    .replace(/[?#][\s\S]*$/, (rest) => `${rest[0]}***`);
  return JSON.stringify(scrubbed);
}

/** Parse an `http://` or `https://` URL parameter; anything else is an error naming it. */
export function parseHttpUrl(name: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ToolError("config", `${name}=${quoteUrl(text)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ToolError(
      "config",
      `${name}=${quoteUrl(text)} must be an http:// or https:// URL`,
    );
  }
  return url;
}

/** The `host:port` a URL connects to, as Deno's net permission spells it. */
export function hostPort(url: URL | string): string {
  const parsed = typeof url === "string" ? new URL(url) : url;
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  return `${parsed.hostname}:${port}`;
}

/**
 * Resolve a configured file path: absolute as it is, else relative to `CI_PROJECT_DIR`
 * when set, else to the working folder.
 */
export function resolveProjectPath(
  settings: Pick<ProviderSettings, "env" | "cwd">,
  path: string,
): string {
  if (path.startsWith("/")) return path;
  const base = settings.env.CI_PROJECT_DIR || settings.cwd;
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\.\//, "")}`;
}
