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

/** System folders Deno's sandbox refuses to open unless every permission is granted. */
const SYSTEM_PATHS = "/proc, /dev and /sys";

/**
 * Deno's own permission text (`Requires read access to "/x", run again with the --allow-read
 * flag`) rewritten as what the tool could not do and why: users cannot pass Deno flags to
 * the binary, so the flag advice means nothing to them. Other text is returned as it is.
 *
 * @example
 * ```ts
 * explainPermission('Requires all access to "/proc/self/environ", run again with the --allow-all flag');
 * // "the tool may not open /proc/self/environ: ..."
 * ```
 */
export function explainPermission(text: string): string {
  // Deno words it three ways: `run again with the --allow-X flag` (deno run), `specify the
  // required permissions during compilation using \`deno compile --allow-X\`` (a compiled
  // binary), and `which cannot be granted in this environment`.
  return text.replace(
    /(?:(?:NotCapable|PermissionDenied): )?Requires (\w+) access(?: to "?([^",]*?)"?(?:\.\.\.\(truncated\))?)?(?:, (?:run again with the --allow-[\w-]+ flag|specify the required permissions during compilation using `deno compile --allow-[\w-]+`|which cannot be granted in this environment))?(?=$|[;)\n]|[.,] )/g,
    (_match, access: string, found: string | undefined) => {
      const target = found || "what it needed";
      switch (access) {
        case "all":
          return `the tool may not open ${target}: ${SYSTEM_PATHS} are outside its sandbox; use a regular file instead`;
        case "read":
          return `the tool may not read ${target}: it is outside the files this run's configuration names`;
        case "write":
          return `the tool may not write ${target}: it is outside the files this run's configuration names`;
        case "net":
          return `the tool may not connect to ${target}: only the hosts this run's configuration names are allowed`;
        case "run":
          return `the tool may not start ${target}: only the configured interpreter may run`;
        case "env":
          return `the tool may not read the environment variable ${target}: only documented parameters are read`;
        default:
          return `the tool may not use ${target} (${access}): it is outside this run's sandbox`;
      }
    },
  );
}

/**
 * Why a file could not be opened, in words (never Deno's flag advice): `it does not exist`,
 * `permission denied`, `it is a folder`, or what the sandbox refused.
 */
export function fileErrorCause(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "it does not exist";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "it is a folder, not a file";
  if (error instanceof Deno.errors.NotADirectory) return "a folder on its path is a file";
  if (error instanceof Deno.errors.NotCapable) {
    return /Requires all access/.test(error.message)
      ? `${SYSTEM_PATHS} are outside the tool's sandbox; use a regular file`
      : "it is outside the files this run's configuration names";
  }
  if (error instanceof Error) return explainPermission(error.message.split("\n")[0]);
  return String(error);
}

/** The most characters of one service-supplied detail sent across the Worker boundary. */
export const DETAIL_BOUND = 4096;
/** How long a detail may be once redacted, in the line the user sees. */
export const DETAIL_SHOWN = 300;

// Private-use characters around a detail: never in a secret's forms, never printed.
const OPEN = "\uE000";
const CLOSE = "\uE001";

/**
 * Mark text a service sent (an error body's message) so the main thread cuts it only after
 * redacting: cut first, a credential cut in half would no longer match the redactor. The
 * backend Worker cannot redact (it does not know the values), so it sends the text whole,
 * bounded to {@linkcode DETAIL_BOUND} characters.
 *
 * @example
 * ```ts
 * new ToolError("auth", `login refused: ${detail(body.message)}`);
 * ```
 */
export function detail(text: string): string {
  return `${OPEN}${text.replaceAll(OPEN, "").replaceAll(CLOSE, "").slice(0, DETAIL_BOUND)}${CLOSE}`;
}

/**
 * Finish the details {@linkcode detail} marked in already-redacted text: each made one line
 * and cut to `max` characters, the markers removed.
 */
export function cutDetails(text: string, max: number = DETAIL_SHOWN): string {
  if (!text.includes(OPEN)) return text;
  return text.replace(/\uE000([^\uE001]*)\uE001/g, (_match, inner: string) => {
    const line = inner.replace(/\s*[\r\n]+\s*/g, " ").trim();
    return line.length > max ? `${line.slice(0, max)}…` : line;
  }).replaceAll(OPEN, "").replaceAll(CLOSE, "");
}
