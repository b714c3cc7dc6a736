/**
 * Runs a command in the core Worker under the permissions computed for this run, and
 * returns its exit code.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { OrchestratorError } from "./errors.ts";
import type { Fetched } from "./run.ts";
import { writeStderr } from "./log.ts";
import type { Redactor } from "./redact.ts";
import { type RunPermissions, toWorkerPermissions } from "./run_plan.ts";

/** The message that starts the core Worker. */
export interface CoreRequest {
  /** The resolved configuration. */
  config: Config;
  /** For `load`: the settings and the secrets fetched; null otherwise. */
  fetched: Fetched | null;
}

/** A message from the core Worker: a stderr line to redact and print, or the exit code. */
export type CoreMessage = { type: "stderr"; text: string } | { type: "exit"; code: number };

/**
 * Run `request` in a Worker limited to `perms`; resolves with the command's exit code.
 * Its stderr lines pass through `redactor` (which holds every fetched value) here.
 */
export function runIsolated(
  request: CoreRequest,
  perms: RunPermissions,
  redactor: Redactor,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./core_worker.ts", import.meta.url).href, {
      type: "module",
      deno: { permissions: toWorkerPermissions(perms) },
    } as WorkerOptions);
    worker.onmessage = (event: MessageEvent<CoreMessage>) => {
      const message = event.data;
      if (message.type === "stderr") {
        writeStderr(redactor.redact(message.text));
        return;
      }
      worker.terminate();
      resolve(message.code);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      worker.terminate();
      const cause = redactor.redact(event.message.split("\n")[0]);
      reject(new OrchestratorError("internal", `the run failed: ${cause}`));
    };
    worker.postMessage(request satisfies CoreRequest);
  });
}
