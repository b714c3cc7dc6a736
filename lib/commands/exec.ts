/**
 * `run`'s child: start the command with its secrets in the environment, pass stdin
 * through, stream its stdout and stderr through the mask, forward SIGINT, SIGTERM and
 * SIGHUP, and end with its exit code (128 + the signal's number when a signal killed it).
 *
 * The child runs in the main thread (a Worker cannot forward signals to it), outside the
 * Deno sandbox, with the job's own rights. Once it has started, the tool gives up the
 * permission to start any other program.
 *
 * @module
 */

import { ToolError } from "../kit/errors.ts";
import type { Logger } from "../output/log.ts";
import { byteRedactor, pipeMasked } from "../output/mask_stream.ts";
import type { Redactor } from "../output/redact.ts";

/** The signals passed on to the child. */
export const FORWARDED_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** What to start and how. */
export interface ChildSpec {
  /** The program (found on `PATH` unless it holds a `/`) and its arguments. */
  command: string[];
  /** Variables set for the child on top of the job's environment (or instead of it). */
  env: Record<string, string>;
  /** Start from an empty environment: the child gets only `env`. */
  clearEnv: boolean;
  /** Mask the child's stdout and stderr (off: they are the tool's own). */
  mask: boolean;
}

/** Where the masked output goes (the tool's stdout and stderr by default). */
export interface ChildOutput {
  /** Writes to stdout. */
  stdout(bytes: Uint8Array): Promise<void>;
  /** Writes to stderr. */
  stderr(bytes: Uint8Array): Promise<void>;
}

async function writeAll(
  stream: { write(bytes: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await stream.write(bytes.subarray(written));
}

const STANDARD_OUTPUT: ChildOutput = {
  stdout: (bytes) => writeAll(Deno.stdout, bytes),
  stderr: (bytes) => writeAll(Deno.stderr, bytes),
};

function startError(program: string, error: unknown): ToolError {
  if (error instanceof Deno.errors.NotFound) {
    return new ToolError(
      "config",
      `cannot start the command "${program}": no such program (on PATH or at that path); check the command after --`,
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new ToolError(
      "config",
      `cannot start the command "${program}": it is not executable; check its path and mode`,
    );
  }
  const cause = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new ToolError("config", `cannot start the command "${program}": ${cause}`);
}

/**
 * Start the child and wait for it; resolves with the exit code the tool must end with.
 * A command that cannot be started is a `config` error naming it (exit 2).
 */
export async function runChild(
  spec: ChildSpec,
  redactor: Redactor,
  log: Logger,
  output: ChildOutput = STANDARD_OUTPUT,
): Promise<number> {
  const [program, ...args] = spec.command;
  const stdio = spec.mask ? "piped" : "inherit";
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      env: spec.env,
      clearEnv: spec.clearEnv,
      stdin: "inherit",
      stdout: stdio,
      stderr: stdio,
    }).spawn();
  } catch (error) {
    throw startError(program, error);
  }
  // The one program is started: nothing else may be (killing it needs no permission).
  Deno.permissions.revokeSync({ name: "run" });
  log.debug(`run: started ${program} (pid ${child.pid}); starting programs is now revoked`);
  const forward = new Map<Deno.Signal, () => void>();
  for (const signal of FORWARDED_SIGNALS) {
    const handler = () => {
      try {
        child.kill(signal);
      } catch {
        // It has already exited; its status says so.
      }
    };
    Deno.addSignalListener(signal, handler);
    forward.set(signal, handler);
  }
  try {
    const piping: Promise<void>[] = [];
    if (spec.mask) {
      const masks = byteRedactor(redactor);
      piping.push(
        pipeMasked(child.stdout, { redactor: masks, write: output.stdout }),
        pipeMasked(child.stderr, { redactor: masks, write: output.stderr }),
      );
    }
    const [status] = await Promise.all([child.status, ...piping.map(quietly)]);
    // Deno reports a signalled child's code as 128 + the signal's number already.
    if (status.signal !== null) log.debug(`run: ${program} was killed by ${status.signal}`);
    return status.code;
  } finally {
    for (const [signal, handler] of forward) Deno.removeSignalListener(signal, handler);
  }
}

/** A pipe whose reader went away (closed stdout) must not fail the run: the child decides. */
async function quietly(piping: Promise<void>): Promise<void> {
  try {
    await piping;
  } catch {
    // The output's reader is gone; the child sees its pipe closed, as without the tool.
  }
}
