/**
 * Temporary folders that remove themselves: `await using tmp = await tempVault()` (or
 * `tempDir()`), so no test leaves anything in the system temp folder.
 *
 * @module
 */

/** A temporary folder, removed (recursively) when disposed. */
export interface TempDir extends AsyncDisposable {
  /** The folder. */
  dir: string;
}

/** A temporary folder and the path of a vault file inside it. */
export interface TempVault extends TempDir {
  /** `DIR/vault.yml` (written only when content was given). */
  vault: string;
}

/** A fresh temporary folder, removed with everything in it when disposed. */
export async function tempDir(prefix = "secrets-orchestrator-test-"): Promise<TempDir> {
  const dir = await Deno.makeTempDir({ prefix });
  return { dir, [Symbol.asyncDispose]: () => removeAll(dir) };
}

/** A fresh temporary folder, and a vault path inside it (optionally written with `content`). */
export async function tempVault(content?: string): Promise<TempVault> {
  const tmp = await tempDir();
  const vault = `${tmp.dir}/vault.yml`;
  if (content !== undefined) await Deno.writeTextFile(vault, content);
  return { ...tmp, vault };
}

/** Remove `path` and everything under it; nothing to do when it is gone already. */
export async function removeAll(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** The file's bytes, or null when it does not exist. */
export async function readBytes(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** A dispose function disposing `resources` in reverse order (for fixtures holding several). */
export function disposeAll(...resources: AsyncDisposable[]): () => Promise<void> {
  return async () => {
    for (const resource of [...resources].reverse()) await resource[Symbol.asyncDispose]();
  };
}
