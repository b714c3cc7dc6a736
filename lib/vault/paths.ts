/**
 * The files of one vault, as paths: the vault itself, its encrypted form and salt, its
 * manifest, and the temp file of an atomic write. Plain string functions with no
 * dependencies, so the run plan can name every file without loading the vault engine.
 *
 * @module
 */

/** Suffix of the encrypted vault's file name. */
export const ENCRYPTED_SUFFIX = ".enc";

/** Name of the salt file, in the vault's folder. */
export const SALT_FILE = "vault.salt";

/** The folder part of a path (`.` for a bare file name). */
export function dirname(path: string): string {
  const index = path.lastIndexOf("/");
  if (index < 0) return ".";
  if (index === 0) return "/";
  return path.slice(0, index);
}

/** The file-name part of a path. */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * The temp file an atomic write uses for `path`: `.NAME.tmp` in the same folder. Its name
 * is fixed so the run's write permission can name it exactly; vault writes happen under
 * the vault lock, so two runs never share it.
 *
 * @example
 * ```ts
 * tempPathFor("/ci/vault.yml"); // "/ci/.vault.yml.tmp"
 * ```
 */
export function tempPathFor(path: string): string {
  return `${dirname(path)}/.${basename(path)}.tmp`;
}

/** The encrypted vault's path for a configured vault path. */
export function encryptedPath(vaultPath: string): string {
  return `${vaultPath}${ENCRYPTED_SUFFIX}`;
}

/** The salt file's path for a configured vault path. */
export function saltPath(vaultPath: string): string {
  return `${dirname(vaultPath)}/${SALT_FILE}`;
}

/** The manifest path for a configured vault path. */
export function manifestPath(vaultPath: string): string {
  return `${vaultPath}.manifest.json`;
}
