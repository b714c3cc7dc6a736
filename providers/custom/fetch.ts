/**
 * The `CUSTOM` backend's fetch: runs the script as its own Python process with the job's
 * environment. The runner (`runner.py`, passed with `-c`) imports it, sends everything the
 * script prints to stderr, and writes the result as JSON on the original stdout, so noise
 * cannot corrupt the result.
 *
 * @module
 */

import type { FetchContext, SecretValue } from "../../lib/contract/provider.ts";
import { detail, fileErrorCause, isKind, ToolError } from "../../lib/kit/errors.ts";
import { schedule } from "../../lib/kit/timers.ts";
import { type CustomConfig, PYTHON } from "./mod.ts";
import RUNNER from "./runner.py" with { type: "text" };

/** What runner.py writes after its marker. */
interface RunnerResult {
  /** What `get_secrets()` returned, checked. */
  secrets?: Record<string, SecretValue>;
  /** A problem the runner found (names keys and types, never values). */
  error?: string;
  /** An exception the script raised: where, and its message (shown only with --verbose). */
  exception?: { type: string; file: string; line: number; message: string };
}

/** What the script gave: its secrets, and the lines it printed (shown with `--verbose`). */
interface ScriptResult {
  secrets: Record<string, SecretValue>;
  noise: string[];
}

async function runScript(ctx: FetchContext<CustomConfig>): Promise<ScriptResult> {
  const { script: path, timeoutMs, cwd } = ctx.config;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new ToolError("config", `SECRETS_CUSTOM_SCRIPT ${path} is not a file`);
  } catch (error) {
    if (isKind(error, "config")) throw error;
    throw new ToolError(
      "config",
      `SECRETS_CUSTOM_SCRIPT ${path} cannot be read: ${fileErrorCause(error)}`,
    );
  }
  const mark = `@@secrets-orchestrator-result-${crypto.randomUUID()}@@`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(PYTHON, {
      // -I: isolated, so nothing in the working folder or PYTHON* variables can shadow the
      // runner's imports; the script's own environment is unchanged (runner.py).
      args: ["-I", "-B", "-c", RUNNER, path, mark],
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (isKind(error, "config")) throw error;
    throw new ToolError(
      "config",
      `cannot run ${PYTHON} for the custom script: ${
        error instanceof Error ? error.message : error
      }; install Python 3 and put it on PATH as ${PYTHON}`,
    );
  }
  let timedOut = false;
  const cancel = schedule(timeoutMs, () => {
    timedOut = true;
    child.kill("SIGKILL");
  });
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  cancel();
  if (timedOut) {
    throw new ToolError(
      "config",
      `custom script ${path} ran past SECRETS_CUSTOM_TIMEOUT (${
        timeoutMs / 1000
      }s) and was stopped; make it faster or raise the timeout`,
    );
  }
  const at = stdout.lastIndexOf(mark);
  const payload = at < 0 ? undefined : stdout.slice(at + mark.length).trim();
  let result: RunnerResult | undefined;
  try {
    result = payload ? JSON.parse(payload) : undefined;
  } catch {
    result = undefined;
  }
  const noise = stderr.split("\n").filter((line) => line.trim() !== "");
  if (result?.exception !== undefined) {
    // Scripts often put what they just handled in the message (`token=...`, int(pw)): at
    // normal verbosity only where it happened; with --verbose the message and the output,
    // after the main thread's redactor (which knows the vault's values and credentials).
    const { type, file, line, message } = result.exception;
    for (const text of noise) ctx.log.debug(`custom script: ${detail(text)}`);
    ctx.log.debug(`custom script ${type} message: ${detail(message)}`);
    throw new ToolError(
      "config",
      `custom script ${path} failed: ${type} raised at ${file} line ${line}; run with --verbose to see its message`,
    );
  }
  if (result?.error !== undefined) {
    for (const text of noise) ctx.log.debug(`custom script: ${detail(text)}`);
    throw new ToolError("config", `custom script ${path} failed: ${detail(result.error)}`);
  }
  if (!result?.secrets) {
    for (const text of noise) ctx.log.debug(`custom script: ${detail(text)}`);
    throw new ToolError(
      "config",
      `custom script ${path} exited with code ${status.code} before returning a result; its output is shown with --verbose, or run it with python to see why`,
    );
  }
  return { secrets: result.secrets, noise };
}

/** Run the script and emit what `get_secrets()` returned. */
export async function fetchSecrets(ctx: FetchContext<CustomConfig>): Promise<void> {
  const { secrets, noise } = await runScript(ctx);
  const { filter } = ctx.settings;
  let kept = 0;
  for (const [name, value] of Object.entries(secrets)) {
    if (filter && !name.includes(filter)) {
      // Not loaded, but still a secret: keep it out of the script's printed lines.
      ctx.sensitive(typeof value === "object" ? JSON.stringify(value) : String(value));
      continue;
    }
    ctx.emit({ name, value });
    kept++;
  }
  // Every value is registered for redaction by now, so the script's own lines can follow.
  for (const line of noise) ctx.log.debug(`custom script: ${line}`);
  ctx.log.debug(`custom script returned ${Object.keys(secrets).length} keys, ${kept} kept`);
}
