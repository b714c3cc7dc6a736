/**
 * How a failure ends a run: one redacted line on stderr and the documented exit code.
 *
 * @module
 */

import { ExitCode, explainPermission, ToolError } from "../kit/errors.ts";
import type { Logger } from "./log.ts";

/** Report a failure as one line and return its exit code. */
export function reportFailure(error: unknown, log: Logger): number {
  // Deno's permission text advises flags the user cannot pass: say what was refused instead.
  if (error instanceof ToolError) {
    log.error(explainPermission(error.message));
    return error.exitCode;
  }
  if (error instanceof Deno.errors.NotCapable) {
    log.error(
      `${
        explainPermission(error.message.split("\n")[0])
      }; if the configuration is right, please report it`,
    );
    return ExitCode.internal;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  log.error(`unexpected failure (${explainPermission(message.split("\n")[0])}); please report it`);
  return ExitCode.internal;
}
