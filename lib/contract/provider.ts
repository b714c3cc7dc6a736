/**
 * The contract between the core and the backends: the {@linkcode Provider} descriptor every
 * backend exports, and the data that crosses between them. Both sides import it; it
 * imports nothing.
 *
 * A backend's descriptor (`providers/NAME/mod.ts`) is registered in `providers/registry.ts`.
 * Its `configure` and `sandbox` run in the main thread, which reads the configuration; its
 * fetch module runs in a Worker whose Deno permissions are exactly the
 * {@linkcode SandboxPlan} of this run (it cannot read environment variables, write files,
 * or reach hosts its configuration does not name); its `map` runs in the core Worker,
 * which owns the vault.
 *
 * @module
 */

/** One documented parameter (an environment variable). */
export interface ParamDoc {
  /** The environment variable's name. */
  name: string;
  /** The default, as text, or undefined when there is none. */
  default?: string;
  /** What it means, in one sentence. */
  meaning: string;
  /** The command-line flag that overrides it, if any (without the leading dashes). */
  flag?: string;
}

/** Every `SECRETS_MANAGER` value, in the order messages list them. */
export const BACKENDS = [
  "AWS_SECRETS_MANAGER",
  "AWS_PARAMETER_STORE",
  "AZURE_KEY_VAULT",
  "HASHICORP_VAULT",
  "CUSTOM",
  "NONE",
] as const;

/** The backends, as spelled in `SECRETS_MANAGER`. */
export type Backend = typeof BACKENDS[number];

/** A value as a backend returns it: text, or (custom scripts) a scalar or a nested mapping. */
export type SecretValue = string | number | boolean | { [key: string]: SecretValue };

/** A leaf value as stored in the vault. */
export type LeafValue = string | number | boolean;

/** One secret as fetched from a backend. */
export interface FetchedSecret {
  /** The secret's name in the backend (used in messages and to derive the vault path). */
  name: string;
  /**
   * The leading part of `name` that is the backend's mount, when it has mounts whose names
   * may contain slashes (HashiCorp Vault: `team/kv`); the rest is the path below it.
   */
  mount?: string;
  /** The value. Binary values are base64 text with `encoding: "base64"`. */
  value: SecretValue;
  /** Set when the value is base64 of bytes the backend returned. */
  encoding?: "base64";
  /** The backend's version id, when it reports one. */
  version?: string;
  /** When the backend says the value last changed (ISO 8601), when it reports it. */
  updated?: string;
  /** The options of the selector that named it: one JSON field, and the vault key to use. */
  pick?: SecretPick;
}

/** What a selector's `;field=` and `;key=` options ask of one secret (`docs/selectors.md`). */
export interface SecretPick {
  /** A dotted path into the secret's JSON object: only this field is loaded. */
  field?: string;
  /** The dotted vault key the value (or the field) goes under, instead of its name's. */
  key?: string;
}

/** Settings handed to a provider: plain data, safe to send to the Worker. */
export interface ProviderSettings {
  /** Every documented environment variable that is set, by name. */
  env: Readonly<Record<string, string>>;
  /** `SECRETS_SELECTION`, split on commas and trimmed; empty means "everything". */
  selection: readonly string[];
  /** `SECRETS_SELECTION_FILTER`, or undefined. */
  filter?: string;
  /** `SECRETS_STRIP_PREFIX`, or undefined. */
  stripPrefix?: string;
  /** `SECRETS_EXPAND_JSON`. */
  expandJson: boolean;
  /** `SECRETS_ALLOW_MISSING`: skip (with a warning) selectors naming no existing secret. */
  allowMissing?: boolean;
  /** The working folder the tool was started in (absolute). */
  cwd: string;
  /** Per-request timeout in milliseconds (`SECRETS_REQUEST_TIMEOUT`). */
  requestTimeoutMs: number;
  /** When the whole load must have finished, in epoch milliseconds (`SECRETS_TIMEOUT`). */
  deadline: number;
}

/** What the Worker running `fetch` may touch. Empty lists mean "nothing". */
export interface SandboxPlan {
  /** `host:port` pairs (or hosts) the backend may connect to. */
  net: string[];
  /** Files (or folders) the backend may read. */
  read: string[];
  /** Programs the backend may run. */
  run: string[];
}

/** Where a provider sends log lines. Everything passes through the redaction layer. */
export interface ProviderLog {
  /** A normal progress line. */
  info(message: string): void;
  /** A warning: something was skipped or looks wrong. */
  warn(message: string): void;
  /** Detail shown only with `--verbose`. */
  debug(message: string): void;
}

/** What `fetch` is given. */
export interface FetchContext<C = unknown> {
  /** This run's settings. */
  settings: ProviderSettings;
  /** What the backend's `configure` returned. */
  config: C;
  /** Log lines (redacted before they are printed). */
  log: ProviderLog;
  /** Hand over one fetched secret. Its value is registered for redaction at once. */
  emit(secret: FetchedSecret): void;
  /** Register a credential (token, key) so it is redacted from every message. */
  sensitive(value: string): void;
  /** Aborted when the overall deadline passes. */
  signal: AbortSignal;
}

/** One vault key to set, produced by `map`. */
export interface VaultEntry {
  /** The dotted path, as segments. */
  path: string[];
  /** The value to store. */
  value: LeafValue;
  /** The backend secret it came from (for messages and the manifest). */
  source: string;
}

/**
 * Reads the credentials a backend keeps in the existing vault (for example
 * `AWS.DEFAULT.S3_KEY`): the values found, by dotted path; absent paths are left out. Each
 * value is registered for redaction before it is returned.
 */
export type VaultCredentialReader = (
  paths: readonly string[],
) => Promise<Readonly<Record<string, string>>>;

/**
 * A backend's fetch module: the network or process code that only the backend's Worker
 * loads, so the main thread and the core Worker never load HTTP clients, SigV4 or JOSE.
 */
export interface FetchModule<C> {
  /** List and fetch the selected secrets, handing each to `ctx.emit`. */
  fetchSecrets(ctx: FetchContext<C>): Promise<void>;
}

/**
 * A backend's descriptor: light enough to load in every isolate. Its steps run in order:
 * `configure` (main thread) validates the settings once and returns plain data; `sandbox`
 * (main thread) derives the hosts, files and programs of this run from that data; the
 * fetch module (backend Worker) gets the same data; `map` (core Worker) turns
 * each fetched secret into vault entries.
 *
 * @example
 * ```ts ignore
 * const config = await provider.configure(settings, readVaultCredentials);
 * const plan = provider.sandbox(config);
 * const { fetchSecrets } = await provider.loadFetch(); // in the backend Worker only
 * ```
 */
export interface Provider<C = unknown> {
  /** Its `SECRETS_MANAGER` value. */
  readonly backend: Backend;
  /** The environment variables it reads, for the docs and the permission list. */
  readonly params: readonly ParamDoc[];
  /**
   * The programs its sandbox may name (none when absent). The main thread keeps the
   * permission to start programs only for a backend that lists some, and only until its
   * Worker has started.
   */
  readonly programs?: readonly string[];
  /**
   * Validate the settings and resolve this run's configuration as plain, structured-clone
   * safe data (it crosses into the Worker). Credentials kept in the vault are asked for
   * through `vault`. Throws a `config` {@linkcode ToolError} naming what is wrong.
   */
  configure(settings: ProviderSettings, vault: VaultCredentialReader): Promise<C> | C;
  /** The hosts, files and programs this run needs. */
  sandbox(config: C): SandboxPlan;
  /** Load the fetch module (a dynamic import, so it is bundled yet loaded only when used). */
  loadFetch(): Promise<FetchModule<C>>;
  /** Turn one fetched secret into vault entries. Throws a `conflict` error for unusable names. */
  map(secret: FetchedSecret, settings: ProviderSettings): VaultEntry[];
}
