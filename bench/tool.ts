/**
 * Runs the tool as users do, through the tests' one runner (`tests/support/run_tool.ts`:
 * `deno run -P main.ts`, production permissions, exactly the environment given, or
 * `SECRETS_ORCHESTRATOR_BIN` when set) and measures its wall time and peak RSS. RSS comes
 * from `/usr/bin/time -v` when present (the whole `deno` process, Worker included), else
 * from polling `VmHWM` in `/proc/PID/status`.
 *
 * @module
 */

import { runTool as run } from "../tests/support/run_tool.ts";

export { RSS_METHOD } from "../tests/support/run_tool.ts";

/** One run of the tool. */
export interface ToolRun {
  /** Exit code. */
  code: number;
  /** Wall time in milliseconds, spawn to exit. */
  wallMs: number;
  /** Peak resident set size in MB (NaN when it could not be read). */
  rssMb: number;
  /** stderr (for diagnosing a failed run). */
  stderr: string;
}

/** Run the tool with ARGS and exactly `env` (plus PATH, HOME, DENO_DIR), measuring it. */
export async function runTool(args: string[], env: Record<string, string>): Promise<ToolRun> {
  const { code, wallMs, rssMb, stderr } = await run(args, env, { measure: true, stdout: "null" });
  return { code, wallMs, rssMb, stderr };
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
