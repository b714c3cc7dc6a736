/**
 * The vault file on disk: reading and validating it, writing it atomically with private
 * permissions, and the lock that serialises runs on one vault.
 *
 * @module
 */

import { fileErrorCause, ToolError } from "../kit/errors.ts";
import { schedule } from "../kit/timers.ts";
import { parseVault, type VaultDocument } from "./document.ts";
import { dirname, tempPathFor } from "./paths.ts";
import {
  checkOpenedSync,
  MAX_VAULT_BYTES,
  readRegularTextSync,
  regularFileInfoSync,
} from "./regular_file.ts";

/** The vault as read: its exact bytes (null when absent) and its parsed document. */
export interface VaultSnapshot {
  /** The path it was read from. */
  path: string;
  /** The file's text, or null when there was no file. */
  text: string | null;
  /** The parsed document (empty for a missing or empty file). */
  doc: VaultDocument;
}

/**
 * Read and parse the vault. A missing file is an empty vault; a symbolic link, a special
 * file or one over {@linkcode MAX_VAULT_BYTES} is refused (see `regular_file.ts`). An
 * `earlier` read of the same path is given back, unparsed again, when the text is the same.
 */
export async function readVault<S extends VaultSnapshot>(
  path: string,
  earlier?: S,
): Promise<VaultSnapshot | S> {
  const text = readRegularTextSync(path, "the vault", MAX_VAULT_BYTES);
  if (earlier !== undefined && earlier.path === path && earlier.text === text) return earlier;
  return { path, text, doc: await parseVault(text ?? "", path) };
}

/**
 * Write `text` (or its pieces, in order) to `path` atomically: a private temp file (mode
 * 0600) in the same folder, fsync, then rename over the target. Readers see the old file
 * or the new one, never a mix. A temp file left by a killed run is replaced; the temp file
 * is removed on failure. `what` names the file in errors. Synchronous, as the reads are
 * (see `regular_file.ts`).
 */
export function writeAtomicSync(
  path: string,
  text: string | Iterable<string> | Uint8Array,
  what = "the vault",
): void {
  const temp = tempPathFor(path);
  try {
    try {
      Deno.removeSync(temp);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const file = Deno.openSync(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      const encoder = new TextEncoder();
      const pieces = typeof text === "string" || text instanceof Uint8Array ? [text] : text;
      for (const piece of pieces) {
        const bytes = typeof piece === "string" ? encoder.encode(piece) : piece;
        let written = 0;
        while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
      }
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.chmodSync(temp, 0o600);
    Deno.renameSync(temp, path);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch {
      // never created, or already renamed
    }
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
export function removeStaleTempsSync(paths: readonly string[]): number {
  let removed = 0;
  for (const path of paths) {
    try {
      Deno.removeSync(tempPathFor(path));
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
  const before = regularFileInfoSync(lockPath, "the vault lock");
  let file: Deno.FsFile;
  try {
    const open = () => Deno.openSync(lockPath, { write: true, create: true, mode: 0o600 });
    try {
      file = open();
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      file = open();
    }
  } catch (error) {
    throw new ToolError("vault", `cannot create the vault lock ${lockPath}: ${describe(error)}`);
  }
  try {
    checkOpenedSync(file, before, "the vault lock", lockPath);
  } catch (error) {
    file.close();
    throw error;
  }
  // A free lock is taken at once; only a held one waits (on a thread of the pool).
  if (!file.tryLockSync(true)) await waitForLock(file, lockPath, timeoutMs);
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

/** Wait until another run releases its lock on `file`; fail after `timeoutMs`. */
async function waitForLock(file: Deno.FsFile, lockPath: string, timeoutMs: number): Promise<void> {
  let cancel = () => {};
  const timeout = new Promise<"timeout">((resolve) => {
    cancel = schedule(timeoutMs, () => resolve("timeout"));
  });
  const got = await Promise.race([file.lock(true).then(() => "locked" as const), timeout]);
  cancel();
  if (got === "timeout") {
    throw new ToolError(
      "vault",
      `another run holds the vault lock ${lockPath} after ${
        Math.round(timeoutMs / 1000)
      }s; wait for it to finish or raise SECRETS_LOCK_TIMEOUT`,
    );
  }
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotFound) return "folder does not exist";
  return fileErrorCause(error);
}
