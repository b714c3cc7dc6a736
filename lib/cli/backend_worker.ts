/**
 * The backend Worker's entry point: loads one backend's fetch module and runs it under the
 * permissions the main thread granted, reporting secrets, log lines and errors as
 * messages (`lib/isolation/backend_host.ts` is the other side).
 *
 * @module
 */

import type { FetchContext, FetchedSecret } from "../contract/provider.ts";
import { toErrorData } from "../kit/errors.ts";
import { checkDepth } from "../kit/mapping.ts";
import { schedule } from "../kit/timers.ts";
import type { BackendMessage, BackendRequest } from "../isolation/protocol.ts";
import { loadProvider } from "../../providers/loaders.ts";

/** Most secrets in one message (bounds its size for large values). */
const BATCH_LIMIT = 256;

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<BackendRequest>) => void) | null;
  postMessage(message: BackendMessage): void;
};

scope.onmessage = async (event: MessageEvent<BackendRequest>) => {
  scope.onmessage = null;
  const { backend, settings, config } = event.data;
  // Secrets emitted in one task leave as one message, at the end of it or when another
  // message is posted (which then follows them): the order the backend emitted is kept.
  let batch: FetchedSecret[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const secrets = batch;
    batch = [];
    scope.postMessage({ type: "secrets", secrets });
  };
  const post = (message: BackendMessage) => {
    flush();
    scope.postMessage(message);
  };
  const abort = new AbortController();
  const cancel = schedule(settings.deadline - Date.now(), () => abort.abort());
  const ctx: FetchContext = {
    settings,
    config,
    signal: abort.signal,
    log: {
      info: (message) => post({ type: "log", level: "info", message }),
      warn: (message) => post({ type: "log", level: "warn", message }),
      debug: (message) => post({ type: "log", level: "debug", message }),
    },
    emit: (secret) => {
      // A value nested thousands of levels deep would overflow the stack of the
      // structured clone that carries it to the main thread.
      checkDepth(secret.value, secret.name);
      if (batch.push(secret) === 1) queueMicrotask(flush);
      else if (batch.length >= BATCH_LIMIT) flush();
    },
    sensitive: (value) => post({ type: "sensitive", value }),
  };
  try {
    const { fetchSecrets } = await (await loadProvider(backend)).loadFetch();
    await fetchSecrets(ctx);
    post({ type: "done" });
  } catch (error) {
    post({ type: "error", error: toErrorData(error) });
  } finally {
    cancel();
  }
};
