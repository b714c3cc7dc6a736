/**
 * The main thread's side of the backend Worker: runs a backend's fetch in a Worker whose
 * Deno permissions are only what this run's configuration names (the backend's hosts, its
 * credential files, its interpreter). The Worker cannot read environment variables or
 * write files at all. Every credential and fetched value is registered with the redactor
 * as its message arrives, before any later log line or error.
 *
 * @module
 */

import type { FetchedSecret, SandboxPlan } from "../contract/provider.ts";
import { cutDetails, fromErrorData, ToolError } from "../kit/errors.ts";
import { schedule } from "../kit/timers.ts";
import type { Logger } from "../output/log.ts";
import type { Redactor } from "../output/redact.ts";
import { backendPermissions } from "./permissions.ts";
import type { BackendMessage, BackendRequest } from "./protocol.ts";
import { spawnWorker } from "./spawn.ts";

/** How long after the deadline a Worker that has not ended is stopped. */
const BACKSTOP_MS = 500;

/** What the main thread needs to run a sandboxed fetch. */
export interface SandboxOptions {
  /** The backend Worker's entry module. */
  entry: URL;
  /** Where the Worker's log lines go. */
  log: Logger;
  /** Fed with every credential and fetched value. */
  redactor: Redactor;
  /** Receives each secret as it arrives (after its value is registered with `redactor`). */
  onSecret: (secret: FetchedSecret) => void;
  /** How long the whole fetch may take, in milliseconds (`SECRETS_TIMEOUT`), for messages. */
  timeoutMs: number;
}

/**
 * Fetch every selected secret in a Worker limited to `plan`, handing each to
 * `options.onSecret` as it arrives. Resolves with how many arrived; rejects with the
 * backend's typed error.
 */
export function fetchSandboxed(
  request: BackendRequest,
  plan: SandboxPlan,
  options: SandboxOptions,
): Promise<number> {
  const { log, redactor } = options;
  return new Promise((resolve, reject) => {
    let count = 0;
    let worker: Worker | undefined;
    const finish = (error?: ToolError) => {
      cancel();
      worker?.terminate();
      log.done();
      if (error) reject(error);
      else resolve(count);
    };
    const cancel = schedule(
      Math.max(0, request.settings.deadline - Date.now()) + BACKSTOP_MS,
      () => {
        finish(
          new ToolError(
            "backend",
            `${request.backend}: the fetch did not finish within ${
              options.timeoutMs / 1000
            }s (SECRETS_TIMEOUT); check the backend's reachability or raise the timeout`,
          ),
        );
        // A backstop: the Worker stops itself at the deadline with the backend's own, more
        // precise error, so this fires only for a Worker that does not.
      },
    );
    const onMessage = (message: BackendMessage) => {
      switch (message.type) {
        case "sensitive":
          redactor.add(message.value);
          break;
        case "secrets":
          for (const secret of message.secrets) {
            redactor.add(secret.value);
            options.onSecret(secret);
          }
          count += message.secrets.length;
          log.progress(`fetched ${count} secrets…`);
          break;
        case "log":
          // Redact, then cut what a service sent: never the other way round.
          log[message.level](cutDetails(redactor.redact(message.message)));
          break;
        case "done":
          finish();
          break;
        case "error": {
          const error = fromErrorData(message.error);
          error.message = cutDetails(redactor.redact(error.message));
          finish(error);
          break;
        }
      }
    };
    try {
      worker = spawnWorker<BackendMessage>({
        url: options.entry,
        permissions: backendPermissions(plan),
        role: "the backend sandbox",
        redactor,
        onMessage,
        onFailure: finish,
      });
    } catch (error) {
      cancel();
      reject(error);
      return;
    }
    worker.postMessage(request satisfies BackendRequest);
  });
}
