/**
 * The core Worker's entry point: runs one command with only the permissions this run needs
 * (see `lib/isolation/permissions.ts`): it cannot read environment variables, and it can
 * read and write only the files its configuration names. For `load` it takes the fetched
 * secrets as they arrive and maps them with the backend's descriptor.
 *
 * @module
 */

import type { Backend, FetchedSecret, ProviderSettings } from "../contract/provider.ts";
import { readCredentials } from "../commands/credentials.ts";
import { toErrorData } from "../kit/errors.ts";
import { type Fetched, runCommand } from "../commands/run.ts";
import { type SecretMapping, startMapping } from "../vault/manifest.ts";
import type { CoreInput, CoreMessage } from "../isolation/protocol.ts";
import { createLogger } from "../output/log.ts";
import { Redactor } from "../output/redact.ts";
import { loadProvider } from "../../providers/loaders.ts";
import { openVaultStore, type StoredVault } from "../vault/store.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<CoreInput>) => void) | null;
  postMessage(message: CoreMessage): void;
};

// The secrets arrive in batches while the backend fetches, each mapped to vault entries
// as it comes (once the backend's descriptor is loaded), so the fetched set is never held
// whole; the run request comes last. A mapping error is kept for the run to report.
let pending: FetchedSecret[] = [];
let mapping: SecretMapping | undefined;
let mappingReady: Promise<void> | undefined;
let mappingError: { error: unknown } | undefined;
// The plain vault, read while the backend fetches (the load checks it is still the same).
let ahead: Promise<StoredVault> | undefined;

function mapPending(): void {
  if (mappingError !== undefined) pending = [];
  if (mapping === undefined || pending.length === 0) return;
  const batch = pending;
  pending = [];
  try {
    mapping.add(batch);
  } catch (error) {
    mappingError = { error };
  }
}

// How to map, from the "map" message (the descriptor starts loading then, while the backend
// fetches; a load that fetched nothing never waits for it).
let mapWith: { backend: Backend; settings: ProviderSettings; at: Date } | undefined;

// WebCrypto sets itself up on its first call in an isolate (2-4 ms here). A load digests
// the vault for the manifest (a dry run too, to check the manifest it shows), so the setup
// starts with the load: during the fetch, or beside the lock and the read of a load with
// nothing to fetch.
let webCryptoStarted = false;
function startWebCrypto(): void {
  if (webCryptoStarted) return;
  webCryptoStarted = true;
  crypto.subtle.digest("SHA-256", new Uint8Array(0)).catch(() => {});
}

function startMap(): Promise<void> {
  const { backend, settings, at } = mapWith!;
  return mappingReady ??= loadProvider(backend).then((provider) => {
    mapping = startMapping(provider, settings, at);
    mapPending();
  });
}

scope.onmessage = async (event: MessageEvent<CoreInput>) => {
  const input = event.data;
  if (input.type === "secrets") {
    for (const secret of input.secrets) pending.push(secret);
    if (mapWith !== undefined) startMap();
    mapPending();
    return;
  }
  if (input.type === "map") {
    mapWith = { backend: input.backend, settings: input.settings, at: new Date() };
    startMap();
    startWebCrypto();
    return;
  }
  if (input.type === "read ahead") {
    ahead = openVaultStore(input.vaultPath, undefined).read();
    // Its failure is the load's to report, when it reads the vault again.
    ahead.catch(() => {});
    return;
  }
  if (input.type === "credentials") {
    const { id } = input;
    try {
      const values = await readCredentials(input, input.paths);
      scope.postMessage({ type: "credentials", id, values });
    } catch (error) {
      scope.postMessage({ type: "credentials", id, error: toErrorData(error) });
    }
    return;
  }
  scope.onmessage = null;
  const { config, settings } = input.request;
  if (config.command === "load") startWebCrypto();
  let fetched: Fetched | null = null;
  if (settings !== null) {
    mapWith ??= { backend: config.backend, settings, at: new Date() };
    if (pending.length > 0) await startMap();
    mapPending();
    const nothing = { count: 0, entries: [], provenance: new Map() };
    fetched = () => {
      if (mappingError !== undefined) throw mappingError.error;
      return mapping ?? nothing;
    };
  }
  const redactor = new Redactor();
  if (config.vaultKey) redactor.add(config.vaultKey);
  const terminal = Deno.stderr.isTerminal();
  const log = createLogger({
    verbosity: config.verbosity,
    color: config.color && terminal,
    redactor,
    progress: terminal,
    // The main thread redacts again with every fetched value before printing.
    write: (text) => scope.postMessage({ type: "stderr", text }),
  });
  const code = await runCommand(config, fetched, log, redactor, ahead);
  scope.postMessage({ type: "exit", code });
};
