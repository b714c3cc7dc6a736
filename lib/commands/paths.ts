/**
 * Dotted vault paths given on the command line or in templates: checks and the error for
 * a path the vault does not hold.
 *
 * @module
 */

import { ToolError } from "../kit/errors.ts";

/** Check a dotted path: no empty segments. */
export function checkPath(path: string): void {
  if (path === "" || path.split(".").some((segment) => segment === "")) {
    throw new ToolError(
      "config",
      `"${path}" is not a vault path; use dotted keys such as SNOWFLAKE.TRANSFORM.PASSWORD`,
    );
  }
}

/** The error for a key the vault does not hold (exit 6). */
export function missingKey(path: string, vaultPath: string): ToolError {
  return new ToolError("vault", `vault key ${path} is not in the vault ${vaultPath}`);
}
