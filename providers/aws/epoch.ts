/**
 * AWS JSON 1.1 timestamps are epoch seconds (possibly fractional).
 *
 * @module
 */

/** An AWS epoch-seconds timestamp as ISO 8601, or undefined when absent or invalid. */
export function isoFromEpoch(seconds: unknown): string | undefined {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return undefined;
  return new Date(seconds * 1000).toISOString();
}
