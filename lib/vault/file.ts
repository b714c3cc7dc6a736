/**
 * The vault file on disk: reading and validating it, writing it atomically with private
 * permissions, and the lock that serialises runs on one vault.
 *
 * @module
 */

import { type Document, isMap, isScalar, isSeq, parseDocument } from "./yaml.ts";
import { fileErrorCause, ToolError } from "../kit/errors.ts";
import { dirname, tempPathFor } from "./paths.ts";
import { portableTags } from "./portable.ts";
import { checkOpened, MAX_VAULT_BYTES, readRegularText, regularFileInfo } from "./regular_file.ts";

/** The vault as read: its exact bytes (null when absent) and its parsed document. */
export interface VaultSnapshot {
  /** The path it was read from. */
  path: string;
  /** The file's text, or null when there was no file. */
  text: string | null;
  /** The parsed document (empty for a missing or empty file). */
  doc: Document;
}

function invalidYaml(path: string, line: number | undefined, code: string): ToolError {
  const where = line === undefined ? "" : ` at line ${line}`;
  return new ToolError(
    "vault",
    `the vault ${path} is not valid YAML${where} (${code}); fix or remove the file, nothing was written`,
  );
}

/**
 * The offset of the first key that repeats an earlier key of the same mapping, or null.
 * One set per mapping, so O(n): `yaml`'s own `uniqueKeys` check compares every pair of
 * keys, which takes minutes on a vault with 100,000 keys in one mapping.
 */
function duplicateKeyOffset(root: unknown): number | null {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isSeq(node)) {
      stack.push(...node.items);
    } else if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        stack.push(pair.value);
        if (!isScalar(pair.key)) continue;
        const value: unknown = pair.key.value;
        const id = `${typeof value}:${String(value)}`;
        if (seen.has(id)) return pair.key.range?.[0] ?? 0;
        seen.add(id);
      }
    }
  }
  return null;
}

/** The 1-based line of a character offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * Parse vault text. Invalid YAML, and a key repeated in one mapping, is an error naming
 * the line; the root must be a mapping.
 */
export function parseVault(text: string, path: string): Document {
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw invalidYaml(path, first.linePos?.[0]?.line, first.code);
  }
  const duplicate = duplicateKeyOffset(doc.contents);
  if (duplicate !== null) throw invalidYaml(path, lineAt(text, duplicate), "DUPLICATE_KEY");
  const root = doc.contents;
  const empty = root === null || (isScalar(root) && root.value === null);
  if (!empty && !isMap(root)) {
    throw new ToolError(
      "vault",
      `the vault ${path} must be a mapping of keys at its top level; fix it`,
    );
  }
  return doc;
}

/**
 * Read and parse the vault. A missing file is an empty vault; a symbolic link, a special
 * file or one over {@linkcode MAX_VAULT_BYTES} is refused (see `regular_file.ts`).
 */
export async function readVault(path: string): Promise<VaultSnapshot> {
  const text = await readRegularText(path, "the vault", MAX_VAULT_BYTES);
  return { path, text, doc: parseVault(text ?? "", path) };
}

/**
 * Serialise a vault document. The same document always gives the same bytes, and every
 * YAML 1.1 and 1.2 reader reads them back as the same data (see `portable.ts`).
 */
export function renderVault(doc: Document): string {
  doc.schema.tags = portableTags(doc.schema.tags) as typeof doc.schema.tags;
  const text = doc.toString({ lineWidth: 0, indent: 2 });
  return text === "" || text === "\n" ? "{}\n" : text;
}

/**
 * Write `text` to `path` atomically: a private temp file (mode 0600) in the same folder,
 * fsync, then rename over the target. Readers see the old file or the new one, never a
 * mix. A temp file left by a killed run is replaced; the temp file is removed on failure.
 * `what` names the file in errors.
 */
export async function writeAtomic(path: string, text: string, what = "the vault"): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await Deno.remove(temp).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      const bytes = new TextEncoder().encode(text);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.chmod(temp, 0o600);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new ToolError(
      "vault",
      `cannot write ${what} ${path}: ${describe(error)}; it was left as it was`,
    );
  }
}

/**
 * Remove the temp files a killed run may have left (see {@linkcode tempPathFor}) for each of
 * `paths` (the vault, the encrypted vault, the manifest). Call only while holding the vault
 * lock, so no live run is writing them. They may hold vault text. Returns how many were
 * removed.
 */
export async function removeStaleTemps(paths: readonly string[]): Promise<number> {
  let removed = 0;
  for (const path of paths) {
    try {
      await Deno.remove(tempPathFor(path));
      removed++;
    } catch {
      // absent (the usual case), or not ours to remove
    }
  }
  return removed;
}

/** The held lock on a vault; release it when done. */
export interface VaultLock {
  /** Release the lock. */
  release(): void;
}

/**
 * Take the exclusive lock beside the vault (`PATH.lock`), waiting up to `timeoutMs`.
 * The lock is an OS file lock (flock), so a lock held by a process that died is released
 * by the kernel and taken over at once.
 */
export async function lockVault(path: string, timeoutMs: number): Promise<VaultLock> {
  const lockPath = `${path}.lock`;
  // Opening a planted link would lock (and create) its target; a FIFO would block forever.
  const before = await regularFileInfo(lockPath, "the vault lock");
  let file: Deno.FsFile;
  try {
    const open = () => Deno.open(lockPath, { write: true, create: true, mode: 0o600 });
    file = await open().catch(async (error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
      return await open();
    });
  } catch (error) {
    throw new ToolError("vault", `cannot create the vault lock ${lockPath}: ${describe(error)}`);
  }
  try {
    await checkOpened(file, before, "the vault lock", lockPath);
  } catch (error) {
    file.close();
    throw error;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const got = await Promise.race([file.lock(true).then(() => "locked" as const), timeout]);
  clearTimeout(timer);
  if (got === "timeout") {
    throw new ToolError(
      "vault",
      `another run holds the vault lock ${lockPath} after ${
        Math.round(timeoutMs / 1000)
      }s; wait for it to finish or raise SECRETS_LOCK_TIMEOUT`,
    );
  }
  return {
    release() {
      try {
        file.unlockSync();
      } finally {
        file.close();
      }
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotFound) return "folder does not exist";
  return fileErrorCause(error);
}
