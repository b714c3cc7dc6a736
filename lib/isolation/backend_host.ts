/**
 * Runs a provider's `fetch` in a Worker whose Deno permissions are only what this run's
 * configuration names: the backend's hosts, its credential files, its interpreter. The
 * Worker cannot read environment variables or write files at all.
 *
 * @module
 */

import { type ErrorData, fromErrorData, ToolError } from "../kit/errors.ts";
import type { Logger } from "../output/log.ts";
import { toWorkerPermissions } from "./permissions.ts";
import type { Redactor } from "../output/redact.ts";
import type {
  FetchedSecret,
  Manager,
  ProviderSettings,
  SandboxPlan,
} from "../contract/provider.ts";

/** A message from the Worker to the main thread. */
export type WorkerMessage =
  | { type: "log"; level: "info" | "warn" | "debug"; message: string }
  | { type: "sensitive"; value: string }
  | { type: "secret"; secret: FetchedSecret }
  | { type: "done" }
  | { type: "error"; error: ErrorData };

/** The message that starts a Worker. */
export interface WorkerRequest {
  /** Which provider to run. */
  manager: Manager;
  /** Its settings. */
  settings: ProviderSettings;
}

/** What the main thread needs to run a sandboxed fetch. */
export interface SandboxOptions {
  /** Where the Worker's log lines go. */
  log: Logger;
  /** Fed with every credential and fetched value. */
  redactor: Redactor;
  /** Receives each secret as it arrives (after its value is registered with `redactor`). */
  onSecret: (secret: FetchedSecret) => void;
  /** How long the whole fetch may take, in milliseconds. */
  timeoutMs: number;
}

/** The Deno permissions of the backend's Worker: only what its plan names, nothing else. */
export function workerPermissions(plan: SandboxPlan): Deno.PermissionOptionsObject {
  return toWorkerPermissions({ read: plan.read, write: [], net: plan.net, run: plan.run });
}

/**
 * Fetch every selected secret in a Worker limited to `plan`, handing each to
 * `options.onSecret` as it arrives. Resolves with how many arrived; rejects with the
 * provider's typed error.
 */
export function fetchSandboxed(
  request: WorkerRequest,
  plan: SandboxPlan,
  options: SandboxOptions,
): Promise<number> {
  const { log, redactor } = options;
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL("../cli/backend_worker.ts", import.meta.url).href, {
        type: "module",
        deno: { permissions: workerPermissions(plan) },
      } as WorkerOptions);
    } catch (error) {
      reject(
        new ToolError(
          "internal",
          `cannot start the backend sandbox: ${error instanceof Error ? error.message : error}`,
        ),
      );
      return;
    }
    let count = 0;
    const finish = (error?: ToolError) => {
      clearTimeout(timer);
      worker.terminate();
      log.done();
      if (error) reject(error);
      else resolve(count);
    };
    const timer = setTimeout(() => {
      finish(
        new ToolError(
          "backend",
          `${request.manager}: the fetch did not finish within ${
            options.timeoutMs / 1000
          }s (SECRETS_TIMEOUT); check the backend's reachability or raise the timeout`,
        ),
      );
    }, options.timeoutMs);
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      switch (message.type) {
        case "sensitive":
          redactor.add(message.value);
          break;
        case "secret":
          redactor.add(message.secret.value);
          options.onSecret(message.secret);
          log.progress(`fetched ${++count} secrets…`);
          break;
        case "log":
          log[message.level](message.message);
          break;
        case "done":
          finish();
          break;
        case "error": {
          const error = fromErrorData(message.error);
          error.message = redactor.redact(error.message);
          finish(error);
          break;
        }
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      finish(
        new ToolError(
          "internal",
          `the backend sandbox failed: ${redactor.redact(event.message)}`,
        ),
      );
    };
    worker.postMessage(request satisfies WorkerRequest);
  });
}
