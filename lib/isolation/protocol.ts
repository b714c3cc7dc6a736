/**
 * Every message that crosses a Worker boundary, in one place: the backend Worker (which
 * runs a backend's fetch) and the core Worker (which runs a command). All of it is plain,
 * structured-clone safe data.
 *
 * @module
 */

import type { Config } from "../commands/config.ts";
import type { Backend, FetchedSecret, ProviderSettings } from "../contract/provider.ts";
import type { ErrorData } from "../kit/errors.ts";

/** The message that starts the backend Worker. */
export interface BackendRequest {
  /** Which backend to run. */
  backend: Backend;
  /** This run's settings. */
  settings: ProviderSettings;
  /** What the backend's `configure` returned. */
  config: unknown;
}

/**
 * A message from the backend Worker to the main thread. Secrets travel in batches (a
 * message per secret costs more than the secret at 100,000 of them), always before any
 * later message, so the main thread learns each value before it prints what follows.
 */
export type BackendMessage =
  | { type: "log"; level: "info" | "warn" | "debug"; message: string }
  | { type: "sensitive"; value: string }
  | { type: "secrets"; secrets: FetchedSecret[] }
  | { type: "done" }
  | { type: "error"; error: ErrorData };

/** The request that runs a command in the core Worker, sent after every fetched secret. */
export interface CoreRequest {
  /** The resolved configuration. */
  config: Config;
  /** For `load`: the backend's settings (for mapping names to keys); null otherwise. */
  settings: ProviderSettings | null;
}

/**
 * A message to the core Worker: credentials to read from the vault (answered by id), how
 * to map the secrets to come (the backend and its settings), the plain vault to read while
 * the backend fetches, some fetched secrets, or the request that runs the command.
 */
export type CoreInput =
  | { type: "credentials"; id: number; vaultPath: string; vaultKey?: string; paths: string[] }
  | { type: "map"; backend: Backend; settings: ProviderSettings }
  | { type: "read ahead"; vaultPath: string }
  | { type: "secrets"; secrets: FetchedSecret[] }
  | { type: "run"; request: CoreRequest };

/**
 * A message from the core Worker: the answer to a credentials request (values or an
 * error), a stderr line to redact and print, or the exit code.
 */
export type CoreMessage =
  | { type: "credentials"; id: number; values: Record<string, string> }
  | { type: "credentials"; id: number; error: ErrorData }
  | { type: "stderr"; text: string }
  | { type: "exit"; code: number };
