/**
 * Runs a command in the core Worker under the permissions computed for this run, and
 * returns its exit code.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { OrchestratorError } from "./errors.ts";
import type { Fetched } from "./run.ts";
import { type RunPermissions, toWorkerPermissions } from "./run_plan.ts";

/** The message that starts the core Worker. */
export interface CoreRequest {
  /** The resolved configuration. */
  config: Config;
  /** For `load`: the settings and the secrets fetched; null otherwise. */
  fetched: Fetched | null;
}

/** Run `request` in a Worker limited to `perms`; resolves with the command's exit code. */
export function runIsolated(request: CoreRequest, perms: RunPermissions): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./core_worker.ts", import.meta.url).href, {
      type: "module",
      deno: { permissions: toWorkerPermissions(perms) },
    } as WorkerOptions);
    worker.onmessage = (event: MessageEvent<{ code: number }>) => {
      worker.terminate();
      resolve(event.data.code);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      worker.terminate();
      reject(new OrchestratorError("internal", `the run failed: ${event.message.split("\n")[0]}`));
    };
    worker.postMessage(request satisfies CoreRequest);
  });
}
