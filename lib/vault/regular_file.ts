/**
 * Reading the vault's own files (the vault, its encrypted form, salt and manifest) and
 * opening its lock, safely against a hostile vault folder: a restored artifact or another
 * job can leave a symbolic link (to a file outside the folder, or to `/dev/zero`), a FIFO
 * (whose open blocks until a writer appears, which no timeout can interrupt) or a huge
 * file there. Only regular files that are not symbolic links are opened, and at most a
 * documented number of bytes is read.
 *
 * The check is `lstat` before opening (so a link or special file is never opened) and
 * `stat` of the opened file after (the same inode, still a regular file). Deno has no
 * `O_NOFOLLOW`/`O_NONBLOCK`: a file swapped for a FIFO in the microseconds between the
 * two could still block; that needs write access to the folder while the tool runs.
 *
 * The calls are synchronous: they run in the core Worker, or in the main thread before any
 * Worker starts, where nothing else waits for the thread, and each asynchronous file call
 * is a round trip through the runtime's thread pool (0.05-0.1 ms on a quiet machine, more
 * on a busy one; a load makes some 30 of them).
 *
 * @module
 */

import { fileErrorCause, ToolError } from "../kit/errors.ts";

/**
 * Largest vault file read (plain YAML): 16 MiB, about 400,000 keys (a 10,000-secret vault
 * is about 1 MB). Parsing takes about 60 times the file's size in memory: a `get` on a
 * vault at the limit measured 7 s and 1 GB.
 */
export const MAX_VAULT_BYTES = 16 * 1024 * 1024;

/** Largest encrypted vault read: the 16 MiB vault, base64url-encoded, plus the JWE header. */
export const MAX_ENCRYPTED_BYTES = 24 * 1024 * 1024;

/** Largest manifest read: 64 MiB. */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** Largest salt file read: 4 KiB (a salt is 20 hex characters). */
export const MAX_SALT_BYTES = 4096;

const MIB = 1024 * 1024;

function sizeText(bytes: number): string {
  return bytes >= MIB ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}

function kindOf(info: Deno.FileInfo): string {
  if (info.isSymlink) return "a symbolic link";
  if (info.isDirectory) return "a folder";
  if (info.isFifo) return "a FIFO (named pipe)";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

/** The refusal of a file that is not a plain regular file. */
function notRegular(what: string, path: string, info: Deno.FileInfo): ToolError {
  const link = info.isSymlink
    ? "; links in the vault folder are not followed: replace it with the file itself"
    : "; remove it";
  return new ToolError(
    "vault",
    `${what} ${path} is ${kindOf(info)}, not a regular file${link}; nothing was written`,
  );
}

/**
 * The `lstat` of `path`, refusing anything but a regular file; null when it does not exist.
 * `what` names the file in errors ("the vault", "the vault lock", ...).
 */
export function regularFileInfoSync(path: string, what: string): Deno.FileInfo | null {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new ToolError("vault", `cannot read ${what} ${path}: ${fileErrorCause(error)}`);
  }
  if (!info.isFile || info.isSymlink) throw notRegular(what, path, info);
  return info;
}

/** How many times a file replaced while it was being opened is looked at again. */
const REPLACED_ATTEMPTS = 5;

const REPLACED = "was replaced while it was being opened";

function isReplaced(error: unknown): boolean {
  return error instanceof ToolError && error.message.includes(REPLACED);
}

/** Check that an opened file is still the regular file `before` described. */
export function checkOpenedSync(
  file: Deno.FsFile,
  before: Deno.FileInfo | null,
  what: string,
  path: string,
): Deno.FileInfo {
  const info = file.statSync();
  if (!info.isFile) throw notRegular(what, path, info);
  if (before !== null && (info.ino !== before.ino || info.dev !== before.dev)) {
    throw new ToolError(
      "vault",
      `${what} ${path} ${REPLACED}; run again, and make sure no other job writes the vault folder`,
    );
  }
  return info;
}

/**
 * UTF-8 text of `bytes`, less a leading byte order mark. Invalid UTF-8 is refused rather
 * than replaced: a vault read with U+FFFD in place of bad bytes would be written back so.
 */
function decodeUtf8(bytes: Uint8Array, what: string, path: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ToolError(
      "vault",
      `${what} ${path} is not UTF-8 text; convert it to UTF-8 (iconv -t UTF-8) or restore it, nothing was written`,
    );
  }
}

/**
 * Read a vault file's bytes: null when absent; a `vault` {@linkcode ToolError} naming it
 * when it is a symbolic link, not a regular file, or larger than `maxBytes`.
 */
export function readRegularBytesSync(
  path: string,
  what: string,
  maxBytes: number,
): Uint8Array | null {
  const tooLarge = () =>
    new ToolError(
      "vault",
      `${what} ${path} is larger than ${
        sizeText(maxBytes)
      }, the most this tool reads; it is not one this tool wrote: restore or remove it`,
    );
  let file: Deno.FsFile | undefined;
  // Another run replacing the file (an atomic rename) between the lstat and the open is
  // normal: look again. A link swapped in is then caught by the lstat.
  for (let attempt = 1; file === undefined; attempt++) {
    const before = regularFileInfoSync(path, what);
    if (before === null) return null;
    if (before.size > maxBytes) throw tooLarge();
    let opened: Deno.FsFile;
    try {
      opened = Deno.openSync(path, { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw new ToolError("vault", `cannot read ${what} ${path}: ${fileErrorCause(error)}`);
    }
    try {
      checkOpenedSync(opened, before, what, path);
      file = opened;
    } catch (error) {
      opened.close();
      if (attempt >= REPLACED_ATTEMPTS || !isReplaced(error)) throw error;
    }
  }
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const count = file.readSync(buffer);
      if (count === null) break;
      total += count;
      if (total > maxBytes) throw tooLarge();
      chunks.push(buffer.slice(0, count));
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  } catch (error) {
    if (error instanceof ToolError) throw error;
    throw new ToolError("vault", `cannot read ${what} ${path}: ${fileErrorCause(error)}`);
  } finally {
    file.close();
  }
}

/**
 * Read a vault file as text, as {@linkcode readRegularBytesSync} does, refusing text that is
 * not UTF-8. A leading byte order mark is dropped, as `Deno.readTextFile` does.
 */
export function readRegularTextSync(
  path: string,
  what: string,
  maxBytes: number,
): string | null {
  const bytes = readRegularBytesSync(path, what, maxBytes);
  return bytes === null ? null : decodeUtf8(bytes, what, path);
}
