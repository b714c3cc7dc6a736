/**
 * Where the vault lives and in what form. Without `DATAOPS_VAULT_KEY` the vault is the
 * plain YAML file (`vault.yml`). With it, the vault is `vault.yml.enc` beside it: one JWE
 * line whose plaintext is the same YAML. While no encrypted vault exists yet, the plain
 * `vault.yml` is read as the base layer; the first write creates `vault.yml.enc` and leaves
 * the plain file untouched. Plaintext never reaches the disk: the atomic temp file holds
 * ciphertext.
 *
 * @module
 */

import { ToolError } from "../kit/errors.ts";
import {
  checkVaultKey,
  decryptVault,
  deriveKey,
  encryptVault,
  newSalt,
  parseSalt,
} from "./crypto.ts";
import { parseVault } from "./document.ts";
import { readVault, type VaultSnapshot, writeAtomicSync } from "./file.ts";
import { encryptedPath, saltPath } from "./paths.ts";
import { MAX_ENCRYPTED_BYTES, MAX_SALT_BYTES, readRegularTextSync } from "./regular_file.ts";

/** The vault as read from its store. */
export interface StoredVault extends VaultSnapshot {
  /** Whether the file the store writes (the encrypted one when encrypting) exists. */
  exists: boolean;
  /** That file's text exactly as on disk (ciphertext when encrypted), or null. */
  raw: string | null;
}

/** Reads and writes the vault in its configured form. */
export interface VaultStore {
  /** The file written: `vault.yml`, or `vault.yml.enc` when encrypted. */
  readonly path: string;
  /** The plain vault path (the configured vault path). */
  readonly plainPath: string;
  /** Whether the vault is stored encrypted. */
  readonly encrypted: boolean;
  /** Read and parse the vault (decrypting it when encrypted). */
  read(): Promise<StoredVault>;
  /**
   * Read the vault again: `earlier` (a read of this store) is given back, parse and all,
   * when the files it came from are byte for byte the same; else as {@linkcode read}.
   */
  readAgain(earlier: StoredVault): Promise<StoredVault>;
  /** The file content for vault text: the text itself, or its encryption (salt created if absent). */
  seal(text: string): Promise<string>;
  /** Write sealed content (or its UTF-8 bytes) atomically (a private temp file, fsync, rename). */
  put(raw: string | Uint8Array): void;
}

/** Read the salt, or create it (20 random hex characters, mode 0600) when `create`. */
function loadSaltSync(path: string, create: boolean): Uint8Array | null {
  const text = readRegularTextSync(path, "the salt file", MAX_SALT_BYTES);
  if (text !== null) return parseSalt(text, path);
  if (!create) return null;
  try {
    const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
    try {
      const bytes = new TextEncoder().encode(`${newSalt()}\n`);
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.chmodSync(path, 0o600);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw new ToolError(
        "vault",
        `cannot create the salt file ${path}: ${error instanceof Error ? error.message : error}`,
      );
    }
  }
  return parseSalt(readRegularTextSync(path, "the salt file", MAX_SALT_BYTES) ?? "", path);
}

function plainStore(vaultPath: string): VaultStore {
  const refuseEncrypted = () => {
    const enc = encryptedPath(vaultPath);
    if (readRegularTextSync(enc, "the encrypted vault", MAX_ENCRYPTED_BYTES) !== null) {
      throw new ToolError(
        "config",
        `the vault is encrypted (${enc} exists) but DATAOPS_VAULT_KEY is not set; set it to read or update the vault`,
      );
    }
  };
  const stored = (snapshot: VaultSnapshot): StoredVault => ({
    ...snapshot,
    exists: snapshot.text !== null,
    raw: snapshot.text,
  });
  return {
    path: vaultPath,
    plainPath: vaultPath,
    encrypted: false,
    async read() {
      refuseEncrypted();
      return stored(await readVault(vaultPath));
    },
    async readAgain(earlier) {
      refuseEncrypted();
      const snapshot = await readVault(vaultPath, earlier);
      return snapshot === earlier ? earlier : stored(snapshot);
    },
    seal: (text) => Promise.resolve(text),
    put: (raw) => writeAtomicSync(vaultPath, raw),
  };
}

function encryptedStore(vaultPath: string, secret: string): VaultStore {
  const path = encryptedPath(vaultPath);
  const salt = saltPath(vaultPath);
  const keyFor = async (create: boolean): Promise<Uint8Array> => {
    const bytes = loadSaltSync(salt, create);
    if (bytes === null) {
      throw new ToolError(
        "vault",
        `the encrypted vault ${path} exists but its salt file ${salt} does not; restore the salt file, the vault cannot be decrypted without it`,
      );
    }
    return await deriveKey(secret, bytes);
  };
  const read = async (): Promise<StoredVault> => {
    const raw = readRegularTextSync(path, "the encrypted vault", MAX_ENCRYPTED_BYTES);
    if (raw === null) {
      const base = await readVault(vaultPath);
      return { ...base, exists: false, raw: null };
    }
    const text = await decryptVault(raw, await keyFor(false), path);
    return { path, text, doc: await parseVault(text, path), exists: true, raw };
  };
  return {
    path,
    plainPath: vaultPath,
    encrypted: true,
    read,
    // Decryption depends on the salt and the key too: always read whole.
    readAgain: () => read(),
    async seal(text) {
      return await encryptVault(text, await keyFor(true));
    },
    put: (raw) => writeAtomicSync(path, raw),
  };
}

/**
 * The store for a configured vault path: encrypted when `key` (`DATAOPS_VAULT_KEY`) is
 * given, plain otherwise.
 */
export function openVaultStore(vaultPath: string, key: string | undefined): VaultStore {
  if (key === undefined) return plainStore(vaultPath);
  checkVaultKey(key);
  return encryptedStore(vaultPath, key);
}

/** Warn when an encrypted vault exists and the plain one (with readable values) is still there. */
export function warnPlainLeftover(
  store: VaultStore,
  vault: StoredVault,
  log: { warn(message: string): void },
): void {
  if (!store.encrypted || !vault.exists) return;
  try {
    Deno.lstatSync(store.plainPath);
  } catch {
    return;
  }
  log.warn(
    `the plain vault ${store.plainPath} still exists beside the encrypted ${store.path}; it is no longer read or written, delete it if it holds secrets`,
  );
}
