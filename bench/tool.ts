/**
 * Runs the tool as users do (`deno run -P main.ts`, production permissions, exactly the
 * environment given) and measures its wall time and peak RSS. RSS comes from
 * `/usr/bin/time -v` when present (the whole `deno` process, Worker included), else from
 * polling `VmHWM` in `/proc/PID/status`.
 *
 * @module
 */

import { ROOT, RUN_FLAGS } from "../tests/helpers.ts";

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

const TIME = "/usr/bin/time";
const hasTime = (() => {
  try {
    return Deno.statSync(TIME).isFile;
  } catch {
    return false;
  }
})();

/** How RSS is measured on this machine. */
export const RSS_METHOD: string = hasTime
  ? "/usr/bin/time -v (Maximum resident set size of the deno process, Worker included)"
  : "VmHWM of /proc/PID/status, polled";

/** Run `deno run -P main.ts ARGS` with exactly `env` (plus PATH, HOME, DENO_DIR). */
export async function runTool(args: string[], env: Record<string, string>): Promise<ToolRun> {
  const base: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  const denoArgs = ["run", ...RUN_FLAGS, `${ROOT}/main.ts`, ...args];
  const timeFile = hasTime ? await Deno.makeTempFile({ prefix: "bench-time-" }) : "";
  const start = performance.now();
  const child = new Deno.Command(hasTime ? TIME : Deno.execPath(), {
    args: hasTime ? ["-v", "-o", timeFile, Deno.execPath(), ...denoArgs] : denoArgs,
    cwd: ROOT,
    env: { ...base, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let polledKb = 0;
  let polling = !hasTime;
  const poll = async () => {
    while (polling) {
      try {
        const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        polledKb = Math.max(polledKb, kb);
      } catch {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const poller = poll();
  const output = await child.output();
  const wallMs = performance.now() - start;
  polling = false;
  await poller;
  let rssKb = polledKb;
  if (hasTime) {
    const report = await Deno.readTextFile(timeFile);
    await Deno.remove(timeFile);
    rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(report)?.[1] ?? NaN);
  }
  return {
    code: output.code,
    wallMs,
    rssMb: rssKb / 1024,
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
