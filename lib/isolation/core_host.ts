/**
 * The main thread's side of the core Worker, which runs a command under the permissions
 * computed for this run and returns its exit code. The Worker starts before the backend's
 * fetch and receives the secrets as they arrive, so its start-up (thread, module loading)
 * overlaps the fetch and the main thread never holds the fetched set.
 *
 * @module
 */

import type { Backend, FetchedSecret, ProviderSettings } from "../contract/provider.ts";
import { fromErrorData } from "../kit/errors.ts";
import type { Redactor } from "../output/redact.ts";
import { writeStderr } from "../output/write.ts";
import type { RunPermissions } from "./permissions.ts";
import type { CoreInput, CoreMessage, CoreRequest } from "./protocol.ts";
import { spawnWorker } from "./spawn.ts";

/** A started core Worker, waiting for its one request. */
export interface CoreWorker {
  /**
   * Read credentials a backend keeps in the vault (`vaultPath`, decrypted with `vaultKey`):
   * the values by path, absent ones left out. Rejects with the vault's error.
   */
  credentials(
    vault: { vaultPath: string; vaultKey?: string },
    paths: readonly string[],
  ): Promise<Record<string, string>>;
  /**
   * Say how the secrets to come are mapped (the backend and its settings), so the Worker
   * maps each as it arrives.
   */
  map(backend: Backend, settings: ProviderSettings): void;
  /**
   * Read and parse the plain vault at `vaultPath` now, while the backend fetches; the load
   * reads it again under the lock and keeps this parse when the file is the same.
   */
  readAhead(vaultPath: string): void;
  /** Hand over one fetched secret (before {@linkcode CoreWorker.run}). */
  add(secret: FetchedSecret): void;
  /** Send the request; resolves with the command's exit code. Call at most once. */
  run(request: CoreRequest): Promise<number>;
  /** Stop the Worker without running anything (e.g. the fetch failed). */
  terminate(): void;
}

/**
 * Start the core Worker (`entry`) limited to `perms`; it will run one command. Its stderr
 * lines pass through `redactor` here, when they are printed, so values the redactor learns
 * after the start (the fetched secrets) are still masked.
 *
 * @example
 * ```ts ignore
 * const core = startCore(entry, commandPermissions(config, cwd), redactor);
 * await fetchSecrets(config, prepared, log, redactor, (secret) => core.add(secret));
 * const code = await core.run({ config, settings: prepared.settings });
 * ```
 */
export function startCore(entry: URL, perms: RunPermissions, redactor: Redactor): CoreWorker {
  let settle: { resolve(code: number): void; reject(error: unknown): void } | undefined;
  let failure: unknown;
  let nextId = 0;
  const asked = new Map<
    number,
    { resolve(values: Record<string, string>): void; reject(error: unknown): void }
  >();
  const worker = spawnWorker<CoreMessage>({
    url: entry,
    permissions: perms,
    role: "the run",
    redactor,
    onMessage(message) {
      if (message.type === "stderr") {
        writeStderr(redactor.redact(message.text));
        return;
      }
      if (message.type === "credentials") {
        const waiter = asked.get(message.id);
        asked.delete(message.id);
        if ("error" in message) waiter?.reject(fromErrorData(message.error));
        else waiter?.resolve(message.values);
        return;
      }
      worker.terminate();
      settle?.resolve(message.code);
    },
    onFailure(error) {
      failure = error;
      settle?.reject(error);
      for (const waiter of asked.values()) waiter.reject(error);
      asked.clear();
    },
  });
  // Secrets handed over in one task go as one message (see `flush`), before any later one.
  let batch: FetchedSecret[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const secrets = batch;
    batch = [];
    worker.postMessage({ type: "secrets", secrets } satisfies CoreInput);
  };
  const send = (input: CoreInput) => {
    flush();
    worker.postMessage(input);
  };
  return {
    credentials(vault, paths) {
      return new Promise((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        const id = nextId++;
        asked.set(id, { resolve, reject });
        const { vaultPath, vaultKey } = vault;
        send({ type: "credentials", id, vaultPath, vaultKey, paths: [...paths] });
      });
    },
    map(backend, settings) {
      send({ type: "map", backend, settings });
    },
    readAhead(vaultPath) {
      send({ type: "read ahead", vaultPath });
    },
    add(secret) {
      if (batch.push(secret) === 1) queueMicrotask(flush);
    },
    run(request) {
      return new Promise((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        settle = { resolve, reject };
        send({ type: "run", request });
      });
    },
    terminate: () => {
      batch = [];
      worker.terminate();
    },
  };
}
