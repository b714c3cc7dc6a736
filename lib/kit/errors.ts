/**
 * Errors as data: a failure has a kind, the kind decides the exit code, and the message
 * says what went wrong and what to do. No message ever carries a secret value: name the
 * secret, the key and the cause instead.
 *
 * @example
 * ```ts
 * const error = new ToolError("config", "SECRETS_TIMEOUT=\"x\" is not a number of seconds");
 * error.exitCode; // 2
 * ```
 *
 * @module
 */

/** The kinds of failure the tool distinguishes. */
export type ErrorKind = "config" | "auth" | "backend" | "conflict" | "vault" | "internal";

/** Exit codes by outcome: 0 for success, then one per {@linkcode ErrorKind}. */
export const ExitCode: Readonly<Record<"ok" | ErrorKind, number>> = {
  ok: 0,
  internal: 1,
  config: 2,
  auth: 3,
  backend: 4,
  conflict: 5,
  vault: 6,
};

/** What each exit code means, for `--help` and the docs. */
export const EXIT_MEANINGS: Readonly<Record<"ok" | ErrorKind, string>> = {
  ok: "ok",
  internal: "unexpected failure (a bug: please report it)",
  config: "configuration",
  auth: "authentication",
  backend: "backend or network",
  conflict: "conflict",
  vault: "vault file",
};

/** An error the tool raises on purpose. */
export class ToolError extends Error {
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

/** Whether `error` is a {@linkcode ToolError} of `kind`. */
export function isKind(error: unknown, kind: ErrorKind): error is ToolError {
  return error instanceof ToolError && error.kind === kind;
}

/** A plain-data form of an error, for crossing a Worker boundary. */
export interface ErrorData {
  /** The failure kind. */
  kind: ErrorKind;
  /** The message (already free of secret values). */
  message: string;
}

/** Turn any thrown value into plain data. Unknown errors become `internal`. */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof ToolError) return { kind: error.kind, message: error.message };
  if (error instanceof Error) {
    return { kind: "internal", message: `${error.name}: ${error.message}` };
  }
  return { kind: "internal", message: String(error) };
}

/** Rebuild a typed error from its plain-data form. */
export function fromErrorData(data: ErrorData): ToolError {
  return new ToolError(data.kind, data.message);
}
