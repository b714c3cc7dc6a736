/**
 * Timestamps as services send them (epoch seconds, possibly fractional: AWS JSON 1.1,
 * Key Vault attributes), as ISO 8601 text.
 *
 * @module
 */

/**
 * An epoch-seconds timestamp as ISO 8601, or undefined when absent or invalid.
 *
 * @example
 * ```ts
 * isoFromEpoch(0); // "1970-01-01T00:00:00.000Z"
 * ```
 */
export function isoFromEpoch(seconds: unknown): string | undefined {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return undefined;
  return new Date(seconds * 1000).toISOString();
}
