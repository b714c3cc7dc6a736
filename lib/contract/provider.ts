/**
 * The contract every backend implements. A backend is one module in `providers/` that
 * exports a {@linkcode Provider}; registering it in `providers/mod.ts` is the only other
 * change needed.
 *
 * The load runs in two places. `credentialPaths`, `sandbox` and `map` run in the main
 * thread, which reads the configuration and owns the vault. `fetch` runs in a Worker whose
 * Deno permissions are exactly the {@linkcode SandboxPlan} computed for this run: the
 * backend cannot read environment variables, write files, or reach hosts its
 * configuration does not name.
 *
 * @module
 */

import type { ParamDoc } from "../kit/params.ts";

/** The backends, as spelled in `SECRETS_MANAGER`. */
export type Manager =
  | "AWS_SECRETS_MANAGER"
  | "AWS_PARAMETER_STORE"
  | "AZURE_KEY_VAULT"
  | "HASHICORP_VAULT"
  | "CUSTOM"
  | "NONE";

/** A value as a backend returns it: text, or (custom scripts) a scalar or a nested mapping. */
export type SecretValue = string | number | boolean | { [key: string]: SecretValue };

/** A leaf value as stored in the vault. */
export type LeafValue = string | number | boolean;

/** One secret as fetched from a backend. */
export interface FetchedSecret {
  /** The secret's name in the backend (used in messages and to derive the vault path). */
  name: string;
  /** The value. Binary values are base64 text with `encoding: "base64"`. */
  value: SecretValue;
  /** Set when the value is base64 of bytes the backend returned. */
  encoding?: "base64";
  /** The backend's version id, when it reports one. */
  version?: string;
  /** When the backend says the value last changed (ISO 8601), when it reports it. */
  updated?: string;
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
  /** Values found in the existing vault at the provider's `credentialPaths`, by dotted path. */
  vaultCredentials: Readonly<Record<string, string>>;
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
export interface FetchContext {
  /** This run's settings. */
  settings: ProviderSettings;
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

/** A backend. */
export interface Provider {
  /** Its `SECRETS_MANAGER` value. */
  readonly manager: Manager;
  /** The environment variables it reads, for the README and the permission list. */
  readonly params: readonly ParamDoc[];
  /**
   * Validate the settings and return the dotted vault paths of credentials this run needs
   * from the existing vault (for example `AWS.DEFAULT.S3_KEY`). Throws `ToolError` (config).
   */
  credentialPaths(settings: ProviderSettings): string[];
  /** The hosts, files and programs this run needs, derived from the settings. */
  sandbox(settings: ProviderSettings): SandboxPlan;
  /** List and fetch the selected secrets, handing each to `ctx.emit`. Runs in the Worker. */
  fetch(ctx: FetchContext): Promise<void>;
  /** Turn one fetched secret into vault entries. Throws `ToolError` (conflict) for unusable names. */
  map(secret: FetchedSecret, settings: ProviderSettings): VaultEntry[];
}
