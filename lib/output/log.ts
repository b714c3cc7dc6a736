/**
 * Output on stderr: one line per stage, warnings, `--verbose` detail and a progress line
 * on terminals. Control characters in a message are escaped (one line stays one line, no
 * raw ANSI), and every line passes through the {@linkcode Redactor}.
 *
 * @module
 */

import { escapeControl } from "./escape.ts";
import type { Redactor } from "./redact.ts";
import { writeStderr } from "./write.ts";

/** How much to print. */
export type Verbosity = "quiet" | "normal" | "verbose";

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** How much to print. */
  verbosity: Verbosity;
  /** Whether to colour warnings and errors. */
  color: boolean;
  /** The redaction layer every line passes through. */
  redactor: Redactor;
  /** Where lines go; defaults to stderr. */
  write?: (text: string) => void;
  /** Whether a progress line may be drawn (stderr is a terminal). */
  progress?: boolean;
}

/** The logger the tool prints through. */
export interface Logger {
  /** A stage line (hidden by `--quiet`). */
  info(message: string): void;
  /** A warning (hidden by `--quiet`). */
  warn(message: string): void;
  /** Detail (only with `--verbose`). */
  debug(message: string): void;
  /** The final error line (always printed). */
  error(message: string): void;
  /** Update the progress line; shown only on a terminal and after a second. */
  progress(message: string): void;
  /** Clear the progress line. */
  done(): void;
}

/** Create a logger. */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? writeStderr;
  const { redactor, verbosity, color } = options;
  const paint = (code: string, text: string) => color ? `\x1b[${code}m${text}\x1b[0m` : text;
  const started = Date.now();
  let progressShown = false;
  const clear = () => {
    if (progressShown) write("\r\x1b[2K");
    progressShown = false;
  };
  // Redact before escaping, so a value holding a control character is still found whole.
  const clean = (message: string) => escapeControl(redactor.redact(message));
  const line = (text: string) => {
    clear();
    write(`${redactor.redact(text)}\n`);
  };
  return {
    info(message) {
      if (verbosity !== "quiet") line(`secrets-orchestrator: ${clean(message)}`);
    },
    warn(message) {
      if (verbosity !== "quiet") {
        line(`secrets-orchestrator: ${paint("33", "warning:")} ${clean(message)}`);
      }
    },
    debug(message) {
      if (verbosity === "verbose") {
        line(`secrets-orchestrator: ${paint("2", clean(message))}`);
      }
    },
    error(message) {
      line(`secrets-orchestrator: ${paint("31", "error:")} ${clean(message)}`);
    },
    progress(message) {
      if (!options.progress || verbosity === "quiet" || Date.now() - started < 1000) return;
      write(`\r\x1b[2K${clean(message)}`);
      progressShown = true;
    },
    done() {
      clear();
    },
  };
}
