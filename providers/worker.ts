/**
 * The Worker entry point: runs one provider's `fetch` under the permissions the main
 * thread granted, and reports secrets, log lines and errors as messages. Every message
 * is redacted here first, with every credential and value seen so far.
 *
 * @module
 */

import { toErrorData } from "../lib/errors.ts";
import { Redactor } from "../lib/redact.ts";
import type { WorkerMessage, WorkerRequest } from "../lib/sandbox.ts";
import { getProvider } from "./mod.ts";
import type { FetchContext } from "./types.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerMessage): void;
};

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  scope.onmessage = null;
  const { manager, settings } = event.data;
  const redactor = new Redactor();
  const post = (message: WorkerMessage) => scope.postMessage(message);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, settings.deadline - Date.now()));
  const ctx: FetchContext = {
    settings,
    signal: abort.signal,
    log: {
      info: (message) => post({ type: "log", level: "info", message: redactor.redact(message) }),
      warn: (message) => post({ type: "log", level: "warn", message: redactor.redact(message) }),
      debug: (message) => post({ type: "log", level: "debug", message: redactor.redact(message) }),
    },
    emit(secret) {
      redactor.add(secret.value);
      post({ type: "secret", secret });
    },
    sensitive(value) {
      redactor.add(value);
      post({ type: "sensitive", value });
    },
  };
  try {
    await getProvider(manager).fetch(ctx);
    post({ type: "done" });
  } catch (error) {
    const data = toErrorData(error);
    post({ type: "error", error: { ...data, message: redactor.redact(data.message) } });
  } finally {
    clearTimeout(timer);
  }
};
