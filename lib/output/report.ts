/**
 * How a failure ends a run: one redacted line on stderr and the documented exit code.
 *
 * @module
 */

import { ExitCode, ToolError } from "../kit/errors.ts";
import type { Logger } from "./log.ts";

/** Report a failure as one line and return its exit code. */
export function reportFailure(error: unknown, log: Logger): number {
  if (error instanceof ToolError) {
    log.error(error.message);
    return error.exitCode;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  log.error(`unexpected failure (${message.split("\n")[0]}); please report it`);
  return ExitCode.internal;
}
