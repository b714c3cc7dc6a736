/**
 * The vault's location, checked in the main thread before any network call: a vault path
 * that is a folder, a parent that is a file, or a folder that cannot be created or written
 * fails at once (exit 6) instead of after the whole fetch. A dry run writes nothing, so
 * only the shape of the path is checked for it, and nothing is created.
 *
 * @module
 */

import { fileErrorCause, ToolError } from "../kit/errors.ts";
import { dirname, encryptedPath } from "../vault/paths.ts";

/**
 * The vault file: `SECRETS_VAULT_PATH`, else `vault.yml` in `DATAOPS_SECRETS_DIR` (default
 * `/secrets`); an empty value counts as unset.
 *
 * @example
 * ```ts
 * vaultPathOf(undefined, "/builds/secrets/"); // "/builds/secrets/vault.yml"
 * ```
 */
export function vaultPathOf(vaultPath: string | undefined, secretsDir: string | undefined): string {
  return vaultPath || `${(secretsDir || "/secrets").replace(/\/+$/, "")}/vault.yml`;
}

/** What is at `path`: a folder, something else, or nothing (`stat` follows symlinks). */
function kindAt(path: string): "folder" | "other" | "none" {
  try {
    return Deno.statSync(path).isDirectory ? "folder" : "other";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "none";
    // ENOTDIR: an ancestor is a file; reported by the walk up in checkVaultLocation.
    if (error instanceof Deno.errors.NotADirectory) return "none";
    throw new ToolError(
      "vault",
      `the vault ${path} cannot be used: ${
        fileErrorCause(error)
      }; fix SECRETS_VAULT_PATH (or DATAOPS_SECRETS_DIR); nothing was fetched`,
    );
  }
}

/** Why a folder cannot take a new file, or null when it can (a probe created and removed). */
function unwritable(folder: string): string | null {
  try {
    const probe = Deno.makeTempFileSync({ dir: folder, prefix: ".secrets-orchestrator-probe-" });
    Deno.removeSync(probe);
    return null;
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
    // EROFS and the like have no class of their own: keep the OS text, not the path after it.
    return error instanceof Error ? error.message.split(": ")[0] : String(error);
  }
}

/**
 * Check that the vault at `vaultPath` (absolute) can be read and, unless `dryRun`, written:
 * throws a `vault` {@linkcode ToolError} naming the path and the cause.
 */
export function checkVaultLocation(vaultPath: string, encrypted: boolean, dryRun: boolean): void {
  const fix = "fix SECRETS_VAULT_PATH (or DATAOPS_SECRETS_DIR); nothing was fetched";
  for (const file of encrypted ? [vaultPath, encryptedPath(vaultPath)] : [vaultPath]) {
    if (kindAt(file) === "folder") {
      throw new ToolError("vault", `the vault path ${file} is a folder, not a file; ${fix}`);
    }
  }
  const folder = dirname(vaultPath);
  let existing = folder;
  while (kindAt(existing) === "none" && existing !== "/") existing = dirname(existing);
  if (kindAt(existing) !== "folder") {
    throw new ToolError(
      "vault",
      `the vault's folder ${folder} cannot be created: ${existing} is a file, not a folder; ${fix}`,
    );
  }
  if (dryRun) return;
  const why = unwritable(existing);
  if (why === null) return;
  throw new ToolError(
    "vault",
    existing === folder
      ? `the vault's folder ${folder} cannot be written (${why}); ${fix}`
      : `the vault's folder ${folder} cannot be created in ${existing} (${why}); ${fix}`,
  );
}
