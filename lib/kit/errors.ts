/**
 * Typed errors. Each kind carries the process exit code documented in the README, and
 * every message says what went wrong and what to do. No message ever carries a secret
 * value: name the secret, the key and the cause instead.
 *
 * @module
 */

/** Exit codes, as documented in the README. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  config: 2,
  auth: 3,
  backend: 4,
  conflict: 5,
  vault: 6,
} as const;

/** The kinds of failure the tool distinguishes. */
export type ErrorKind = "config" | "auth" | "backend" | "conflict" | "vault" | "internal";

/** Base class of every error the tool raises on purpose. */
export class OrchestratorError extends Error {
  /** The failure kind, which decides the exit code. */
  readonly kind: ErrorKind;

  /** Create an error of the given kind. */
  constructor(kind: ErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
    this.name = new.target.name;
  }

  /** The exit code for this error's kind. */
  get exitCode(): number {
    return ExitCode[this.kind];
  }
}

/** Bad or missing configuration (environment variables, flags, script paths). */
export class ConfigError extends OrchestratorError {
  /** Create a configuration error. */
  constructor(message: string, options?: ErrorOptions) {
    super("config", message, options);
  }
}

/** The backend refused our identity or the identity lacks a permission. */
export class AuthError extends OrchestratorError {
  /** Create an authentication error. */
  constructor(message: string, options?: ErrorOptions) {
    super("auth", message, options);
  }
}

/** The backend or the network failed (after retries), or answered something unusable. */
export class BackendError extends OrchestratorError {
  /** Create a backend error. */
  constructor(message: string, options?: ErrorOptions) {
    super("backend", message, options);
  }
}

/** Fetched secrets cannot be merged: collisions, a key both value and namespace, bad keys. */
export class ConflictError extends OrchestratorError {
  /** Create a conflict error. */
  constructor(message: string, options?: ErrorOptions) {
    super("conflict", message, options);
  }
}

/** The vault file cannot be read, parsed, locked or written. */
export class VaultError extends OrchestratorError {
  /** Create a vault error. */
  constructor(message: string, options?: ErrorOptions) {
    super("vault", message, options);
  }
}

/** A plain-data form of an error, for crossing the worker boundary. */
export interface ErrorData {
  kind: ErrorKind;
  message: string;
}

/** Turn any thrown value into plain data. Unknown errors become `internal`. */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof OrchestratorError) return { kind: error.kind, message: error.message };
  if (error instanceof Error) {
    return { kind: "internal", message: `${error.name}: ${error.message}` };
  }
  return { kind: "internal", message: String(error) };
}

/** Rebuild a typed error from its plain-data form. */
export function fromErrorData(data: ErrorData): OrchestratorError {
  switch (data.kind) {
    case "config":
      return new ConfigError(data.message);
    case "auth":
      return new AuthError(data.message);
    case "backend":
      return new BackendError(data.message);
    case "conflict":
      return new ConflictError(data.message);
    case "vault":
      return new VaultError(data.message);
    default:
      return new OrchestratorError("internal", data.message);
  }
}
