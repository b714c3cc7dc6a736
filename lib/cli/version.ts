/**
 * The `--version` line: the version, the target the binary was built for, and the commit it
 * was built from. `make build` writes the commit to `.build/commit` and embeds that file;
 * from a checkout the line says so instead. This module imports nothing, so `--version`
 * answers without loading the rest of the tool.
 *
 * @module
 */

function commit(): string {
  try {
    const text = Deno.readTextFileSync(new URL("../../.build/commit", import.meta.url)).trim();
    return /^[0-9a-f]{7,40}$/.test(text) ? text : "unknown";
  } catch {
    return "none: run from a checkout";
  }
}

/**
 * The `--version` line for `version`.
 *
 * @example
 * ```ts ignore
 * versionLine("0.1.0"); // "secrets-orchestrator 0.1.0 (x86_64-unknown-linux-gnu, commit 1a2b3c4d5e6f)"
 * ```
 */
export function versionLine(version: string): string {
  return `secrets-orchestrator ${version} (${Deno.build.target}, commit ${commit()})`;
}
