/**
 * The backend Worker's entry point: loads one backend's fetch module and runs it under the
 * permissions the main thread granted, reporting secrets, log lines and errors as
 * messages (`lib/isolation/backend_host.ts` is the other side).
 *
 * @module
 */

import type { FetchContext } from "../contract/provider.ts";
import { toErrorData } from "../kit/errors.ts";
import { checkDepth } from "../kit/mapping.ts";
import type { BackendMessage, BackendRequest } from "../isolation/protocol.ts";
import { PROVIDERS } from "../../providers/registry.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<BackendRequest>) => void) | null;
  postMessage(message: BackendMessage): void;
};

scope.onmessage = async (event: MessageEvent<BackendRequest>) => {
  scope.onmessage = null;
  const { backend, settings, config } = event.data;
  const post = (message: BackendMessage) => scope.postMessage(message);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, settings.deadline - Date.now()));
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
      post({ type: "secret", secret });
    },
    sensitive: (value) => post({ type: "sensitive", value }),
  };
  try {
    const { fetchSecrets } = await PROVIDERS[backend].loadFetch();
    await fetchSecrets(ctx);
    post({ type: "done" });
  } catch (error) {
    post({ type: "error", error: toErrorData(error) });
  } finally {
    clearTimeout(timer);
  }
};
