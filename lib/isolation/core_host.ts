/**
 * Runs a command in the core Worker under the permissions computed for this run, and
 * returns its exit code. The Worker starts before the backend's fetch and receives the
 * secrets as they arrive, so its start-up (thread, module loading) overlaps the fetch and
 * the main thread never holds the fetched set.
 *
 * @module
 */

import type { Config } from "../cli/config.ts";
import { ToolError } from "../kit/errors.ts";
import { writeStderr } from "../output/log.ts";
import type { Redactor } from "../output/redact.ts";
import { type RunPermissions, toWorkerPermissions } from "./permissions.ts";
import type { FetchedSecret, ProviderSettings } from "../contract/provider.ts";

/** The request that runs the command, sent after every fetched secret. */
export interface CoreRequest {
  /** The resolved configuration. */
  config: Config;
  /** For `load`: the provider's settings (for mapping names to keys); null otherwise. */
  settings: ProviderSettings | null;
}

/** A message to the core Worker: one fetched secret, or the request that runs the command. */
export type CoreInput = { type: "secret"; secret: FetchedSecret } | {
  type: "run";
  request: CoreRequest;
};

/** A message from the core Worker: a stderr line to redact and print, or the exit code. */
export type CoreMessage = { type: "stderr"; text: string } | { type: "exit"; code: number };

/** A started core Worker, waiting for its one request. */
export interface CoreWorker {
  /** Hand over one fetched secret (before {@linkcode CoreWorker.run}). */
  add(secret: FetchedSecret): void;
  /** Send the request; resolves with the command's exit code. Call at most once. */
  run(request: CoreRequest): Promise<number>;
  /** Stop the Worker without running anything (e.g. the fetch failed). */
  terminate(): void;
}

/**
 * Start a Worker limited to `perms` that will run one command. Its stderr lines pass
 * through `redactor` here, when they are printed, so values the redactor learns after the
 * start (the fetched secrets) are still masked.
 *
 * @example
 * ```ts ignore
 * const core = startCore(commandPermissions(config, cwd), redactor);
 * await fetchSecrets(config, prepared, log, redactor, (secret) => core.add(secret));
 * const code = await core.run({ config, settings: prepared.settings });
 * ```
 */
export function startCore(perms: RunPermissions, redactor: Redactor): CoreWorker {
  const worker = new Worker(new URL("../cli/core_worker.ts", import.meta.url).href, {
    type: "module",
    deno: { permissions: toWorkerPermissions(perms) },
  } as WorkerOptions);
  let settle: { resolve(code: number): void; reject(error: unknown): void } | undefined;
  let failure: unknown;
  worker.onmessage = (event: MessageEvent<CoreMessage>) => {
    const message = event.data;
    if (message.type === "stderr") {
      writeStderr(redactor.redact(message.text));
      return;
    }
    worker.terminate();
    settle?.resolve(message.code);
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    worker.terminate();
    const cause = redactor.redact(event.message.split("\n")[0]);
    failure = new ToolError("internal", `the run failed: ${cause}`);
    settle?.reject(failure);
  };
  const send = (input: CoreInput) => worker.postMessage(input);
  return {
    add(secret) {
      send({ type: "secret", secret });
    },
    run(request) {
      return new Promise((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        settle = { resolve, reject };
        send({ type: "run", request });
      });
    },
    terminate: () => worker.terminate(),
  };
}
