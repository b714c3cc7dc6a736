/**
 * `mask [--ci github|gitlab] [PATH]`: the CI system's commands that mask every vault value
 * in later log output.
 *
 * GitHub Actions: one `::add-mask::` line per form of each value that could show up in a
 * log: the value, each line of a multi-line value, each leaf of a JSON value, and their
 * base64, URL- and JSON-escaped forms (the forms the tool's own redaction covers; forms
 * shorter than 4 characters, and boolean values, are skipped: masking them would blank
 * ordinary words in every later log line).
 * Command data is escaped as the runner expects (`%` → `%25`, CR → `%0D`, LF → `%0A`).
 *
 * GitLab CI has no command to mask a value at run time, so nothing is printed on stdout
 * and the alternatives are explained on stderr.
 *
 * @module
 */

import { derivedForms } from "../output/redact.ts";
import { leafText, type VaultLeaf } from "../vault/tree.ts";

/** Why `mask --ci gitlab` prints nothing. */
export const GITLAB_NOTICE =
  "GitLab CI has no command to mask values at run time: only CI/CD variables defined with the Masked option are masked. Keep vault values out of job logs: read them with get, render or export into files or variables, never echo them, and do not use set -x around them.";

/** Escape workflow-command data for the GitHub Actions runner. */
export function escapeCommandData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/**
 * The `::add-mask::` lines for the given leaves (each form once; forms already in `seen`
 * are skipped, and the new ones added to it).
 */
export function githubMasks(
  found: readonly VaultLeaf[],
  seen: Set<string> = new Set(),
): string {
  const forms: string[] = [];
  for (const leaf of found) {
    if (typeof leaf.value === "boolean") continue;
    for (const form of derivedForms(leafText(leaf.value))) {
      if (/[\r\n]/.test(form) || form.trim() === "" || seen.has(form)) continue;
      seen.add(form);
      forms.push(form);
    }
  }
  return forms.map((form) => `::add-mask::${escapeCommandData(form)}\n`).join("");
}
