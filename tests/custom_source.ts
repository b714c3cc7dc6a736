/**
 * Moved to `tests/support/custom_source.ts`; kept only for `bench/` modules that still import
 * this path. Tests import `tests/support/` directly.
 *
 * @module
 */

export * from "./support/custom_source.ts";
