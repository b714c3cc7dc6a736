/**
 * The Worker entry point: runs one provider's `fetch` under the permissions the main
 * thread granted, and reports secrets, log lines and errors as messages. The main thread
 * registers each secret and credential with its redaction layer as the message arrives,
 * before any later log line or error, so one redactor covers everything the Worker says.
 *
 * @module
 */

import { toErrorData } from "../kit/errors.ts";
import type { WorkerMessage, WorkerRequest } from "../isolation/backend_host.ts";
import { getProvider } from "../../providers/registry.ts";
import type { FetchContext } from "../contract/provider.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerMessage): void;
};

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  scope.onmessage = null;
  const { manager, settings } = event.data;
  const post = (message: WorkerMessage) => scope.postMessage(message);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, settings.deadline - Date.now()));
  const ctx: FetchContext = {
    settings,
    signal: abort.signal,
    log: {
      info: (message) => post({ type: "log", level: "info", message }),
      warn: (message) => post({ type: "log", level: "warn", message }),
      debug: (message) => post({ type: "log", level: "debug", message }),
    },
    emit: (secret) => post({ type: "secret", secret }),
    sensitive: (value) => post({ type: "sensitive", value }),
  };
  try {
    await getProvider(manager).fetch(ctx);
    post({ type: "done" });
  } catch (error) {
    post({ type: "error", error: toErrorData(error) });
  } finally {
    clearTimeout(timer);
  }
};
