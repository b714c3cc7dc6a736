/**
 * Moved to `tests/support/run_tool.ts`; kept only for `bench/` modules that still import
 * this path. Tests import `tests/support/` directly.
 *
 * @module
 */

export * from "./support/run_tool.ts";
