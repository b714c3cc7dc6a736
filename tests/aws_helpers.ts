/**
 * Moved to `tests/support/aws.ts`; kept only for `bench/` modules that still import
 * this path. Tests import `tests/support/` directly.
 *
 * @module
 */

export * from "./support/aws.ts";
