/**
 * Creating a Worker with exactly the permissions one run needs, and turning its failures
 * into one redacted `internal` error. Both Worker hosts start their Worker here.
 *
 * @module
 */

import { explainPermission, ToolError } from "../kit/errors.ts";
import type { Redactor } from "../output/redact.ts";
import { type RunPermissions, toWorkerPermissions } from "./permissions.ts";

/** What {@linkcode spawnWorker} needs. */
export interface SpawnOptions<M> {
  /** The Worker's entry module. */
  url: URL;
  /** Its permissions: only these files, hosts and programs. */
  permissions: RunPermissions;
  /** What the Worker is, for messages (`the backend sandbox`, `the run`). */
  role: string;
  /** Masks values in the Worker's crash message. */
  redactor: Redactor;
  /** Each message the Worker posts. */
  onMessage(message: M): void;
  /** The Worker crashed (an uncaught error); it has been terminated. */
  onFailure(error: ToolError): void;
}

/**
 * Start a Worker limited to `options.permissions`. Throws an `internal` {@linkcode ToolError}
 * when it cannot be created.
 *
 * @example
 * ```ts ignore
 * const worker = spawnWorker({ url, permissions, role: "the run", redactor, onMessage, onFailure });
 * worker.postMessage(request);
 * ```
 */
export function spawnWorker<M>(options: SpawnOptions<M>): Worker {
  let worker: Worker;
  try {
    worker = new Worker(options.url.href, {
      type: "module",
      deno: { permissions: toWorkerPermissions(options.permissions) },
    } as WorkerOptions);
  } catch (error) {
    throw new ToolError(
      "internal",
      `cannot start ${options.role}: ${error instanceof Error ? error.message : error}`,
    );
  }
  worker.onmessage = (event: MessageEvent<M>) => options.onMessage(event.data);
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    worker.terminate();
    const cause = explainPermission(options.redactor.redact(String(event.message).split("\n")[0]));
    options.onFailure(new ToolError("internal", `${options.role} failed: ${cause}`));
  };
  return worker;
}
