/**
 * The one place the tests and the benchmark start the tool: `deno run <RUN_FLAGS> main.ts
 * ARGS` as users do (the production permission set), with exactly the environment given.
 * When `SECRETS_ORCHESTRATOR_BIN` is set (e.g. to a `make build` binary), that executable
 * is run with ARGS instead.
 *
 * @module
 */

/** The repository root. */
export const ROOT: string = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * The Deno flags the binary is compiled with (`make build`), so `deno run` behaves like it:
 * the production permission set, no prompts, and V8's young generation capped at 1 MB per
 * semi-space, which keeps a 10,000-secret load under 150 MB with three isolates.
 * The Makefile's `RUN_FLAGS` must match (a test checks).
 */
export const RUN_FLAGS: readonly string[] = [
  // Deno's own warnings (the permission set in deno.json is "experimental") are nothing a
  // user can act on; a compiled binary does not print them either.
  "-q",
  "-P",
  "--no-prompt",
  "--v8-flags=--max-semi-space-size=1,--heap-growing-percent=30",
];

/** The variable naming an executable to run instead of `deno run main.ts`. */
export const BIN_VARIABLE = "SECRETS_ORCHESTRATOR_BIN";

/** What a run of the tool gave. */
export interface RunResult {
  /** Exit code. */
  code: number;
  /** Everything on stdout (empty when `stdout: "null"`). */
  stdout: string;
  /** Everything on stderr. */
  stderr: string;
  /** Wall time in milliseconds, spawn to exit. */
  wallMs: number;
  /** Peak resident set size in MB: NaN unless `measure` was asked for (or it could not be read). */
  rssMb: number;
}

/** Options for {@linkcode runTool} and {@linkcode spawnTool}. */
export interface RunOptions {
  /** Working folder (default: the repository root). */
  cwd?: string;
  /** Extra Deno flags before `main.ts` (default none; ignored for an executable). */
  denoFlags?: string[];
  /** Send SIGKILL after this many milliseconds. */
  killAfterMs?: number;
  /** The executable to run (default: `SECRETS_ORCHESTRATOR_BIN`, else `deno run main.ts`). */
  bin?: string;
  /** Where stdout goes (default "piped"). */
  stdout?: "piped" | "null";
  /** Where stderr goes (default "piped"). */
  stderr?: "piped" | "null";
  /** Measure peak RSS (benchmark): `/usr/bin/time -v` when present, else polling VmHWM. */
  measure?: boolean;
  /** Written to the tool's stdin, which is then closed (default: stdin is /dev/null). */
  stdin?: string;
}

/** The executable the runs use: `bin`, else `SECRETS_ORCHESTRATOR_BIN`, else none (deno run). */
export function toolBin(bin?: string): string | undefined {
  if (bin !== undefined) return bin;
  const fromEnv = Deno.env.get(BIN_VARIABLE);
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}

/** The program and arguments that run the tool with `args`. */
export function toolCommand(
  args: readonly string[],
  options: Pick<RunOptions, "bin" | "denoFlags"> = {},
): { program: string; args: string[] } {
  const bin = toolBin(options.bin);
  if (bin !== undefined) return { program: bin, args: [...args] };
  return {
    program: Deno.execPath(),
    args: ["run", ...RUN_FLAGS, ...(options.denoFlags ?? []), `${ROOT}/main.ts`, ...args],
  };
}

/** `env` plus NO_COLOR, DENO_NO_UPDATE_CHECK, and PATH, HOME and DENO_DIR from this process. */
export function toolEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  return { ...base, ...env };
}

const TIME = "/usr/bin/time";
const hasTime = (() => {
  try {
    return Deno.statSync(TIME).isFile;
  } catch {
    return false;
  }
})();

/** How `measure` reads RSS on this machine. */
export const RSS_METHOD: string = hasTime
  ? "/usr/bin/time -v (Maximum resident set size of the deno process, Worker included)"
  : "VmHWM of /proc/PID/status, polled";

/**
 * Start the tool with exactly `env` (plus PATH, HOME and DENO_DIR so Deno finds its cache
 * and Python); the caller waits for it. `timeFile`, when given, wraps it in `/usr/bin/time`.
 */
export function spawnTool(
  args: readonly string[],
  env: Record<string, string>,
  options: RunOptions = {},
  timeFile?: string,
): Deno.ChildProcess {
  const command = toolCommand(args, options);
  return new Deno.Command(timeFile ? TIME : command.program, {
    args: timeFile ? ["-v", "-o", timeFile, command.program, ...command.args] : command.args,
    cwd: options.cwd ?? ROOT,
    env: toolEnv(env),
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: options.stdout ?? "piped",
    stderr: options.stderr ?? "piped",
  }).spawn();
}

/** Run the tool with `args` and exactly `env` (see {@linkcode spawnTool}) and collect its output. */
export async function runTool(
  args: string[],
  env: Record<string, string>,
  options: RunOptions = {},
): Promise<RunResult> {
  const timeFile = options.measure && hasTime
    ? await Deno.makeTempFile({ prefix: "secrets-orchestrator-time-" })
    : undefined;
  try {
    const start = performance.now();
    const child = spawnTool(args, env, options, timeFile);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (options.killAfterMs !== undefined) {
      timer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
    }
    let polledKb = 0;
    let polling = options.measure === true && !hasTime;
    const poll = async () => {
      while (polling) {
        try {
          const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
          polledKb = Math.max(polledKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const poller = poll();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const output = await child.output();
    const wallMs = performance.now() - start;
    clearTimeout(timer);
    polling = false;
    await poller;
    let rssKb = options.measure ? polledKb : NaN;
    if (timeFile) {
      const report = await Deno.readTextFile(timeFile);
      rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(report)?.[1] ?? NaN);
    }
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return {
      code: output.code,
      stdout: options.stdout === "null" ? "" : decode(output.stdout),
      stderr: options.stderr === "null" ? "" : decode(output.stderr),
      wallMs,
      rssMb: rssKb / 1024,
    };
  } finally {
    if (timeFile) await Deno.remove(timeFile).catch(() => {});
  }
}
