/**
 * The `load` command's first half (main thread): configure the backend (reading the
 * credentials it keeps in the vault), compute its sandbox plan, and fetch the secrets in
 * that sandbox. The second half, the merge, runs in the core Worker
 * (`lib/commands/load.ts`).
 *
 * @module
 */

import type { Config } from "./config.ts";
import type {
  FetchedSecret,
  Provider,
  ProviderSettings,
  SandboxPlan,
  VaultCredentialReader,
} from "../contract/provider.ts";
import type { Logger } from "../output/log.ts";
import type { Redactor } from "../output/redact.ts";
import { fetchSandboxed } from "../isolation/backend_host.ts";

/** What `load` needs that only the main thread can compute. */
export interface PreparedLoad {
  /** The backend's settings. */
  settings: ProviderSettings;
  /** What the backend's `configure` returned (plain data, sent to its Worker). */
  backendConfig: unknown;
  /** The hosts, files and programs the backend may use in this run. */
  plan: SandboxPlan;
}

/**
 * The reader of credentials kept in the vault: `read` fetches them (the core Worker reads
 * the vault, so the main thread never loads YAML); each value is registered with the
 * redactor before the backend sees it.
 */
function vaultCredentialReader(read: CredentialSource, redactor: Redactor): VaultCredentialReader {
  return async (paths) => {
    if (paths.length === 0) return {};
    const found = await read(paths);
    for (const value of Object.values(found)) redactor.add(value);
    return found;
  };
}

/** Where credentials kept in the vault come from: the values at some dotted paths. */
export type CredentialSource = (paths: readonly string[]) => Promise<Record<string, string>>;

/**
 * Register every value the vault holds now with `redactor`. Only a custom script run with
 * `--verbose` needs it: its exception message and output are printed then, and a script
 * often echoes a value it read or is about to replace. Other loads never read the vault
 * here, so they start without the vault engine.
 */
export async function learnVaultValues(config: Config, redactor: Redactor): Promise<void> {
  const [{ openVaultStore }, { leaves }] = await Promise.all([
    import("../vault/store.ts"),
    import("../vault/tree.ts"),
  ]);
  const before = await openVaultStore(config.vaultPath, config.vaultKey).read();
  for (const leaf of leaves(before.doc.tree())) redactor.add(String(leaf.value));
}

/**
 * Prepare a load in the main thread: configure the backend once (validating its
 * parameters and reading the credentials it keeps in the vault through `credentials`) and
 * compute its sandbox.
 */
export async function prepareLoad(
  config: Config,
  provider: Provider,
  cwd: string,
  redactor: Redactor,
  credentials: CredentialSource,
): Promise<PreparedLoad> {
  const settings: ProviderSettings = {
    ...config.settings,
    cwd,
    deadline: Date.now() + config.timeoutMs,
  };
  const backendConfig = await provider.configure(
    settings,
    vaultCredentialReader(credentials, redactor),
  );
  return { settings, backendConfig, plan: provider.sandbox(backendConfig) };
}

/**
 * Fetch the selected secrets in the backend's sandbox (main thread). Every value is
 * registered with `redactor` as it arrives, then handed to `onSecret`. Resolves with the
 * number of secrets fetched.
 */
export async function fetchSecrets(
  config: Config,
  prepared: PreparedLoad,
  log: Logger,
  redactor: Redactor,
  onSecret: (secret: FetchedSecret) => void,
): Promise<number> {
  const { settings, plan, backendConfig } = prepared;
  log.info(`fetching from ${config.backend}`);
  log.debug(
    `backend sandbox: net=[${plan.net.join(",")}] read=[${plan.read.join(",")}] run=[${
      plan.run.join(",")
    }]`,
  );
  // NONE fetches nothing: no Worker to start (about 10 ms of a load that does nothing else).
  if (config.backend === "NONE") return 0;
  return await fetchSandboxed(
    { backend: config.backend, settings, config: backendConfig },
    plan,
    {
      entry: new URL("./backend_worker.ts", import.meta.url),
      log,
      redactor,
      onSecret,
      timeoutMs: config.timeoutMs,
    },
  );
}
