/**
 * Encryption of the vault at rest: JWE compact serialization (`dir` + `A256GCM`, with
 * `jose`), the content key derived with HKDF-SHA-256 from `DATAOPS_VAULT_KEY` and the
 * salt file `vault.salt` beside the vault. A wrong key, a wrong salt or a modified file
 * fails authentication: a `vault` {@linkcode ToolError}, never garbage. `jose` is loaded on first
 * use, so plain vaults never load it.
 *
 * @module
 */

import { ToolError } from "../kit/errors.ts";
import { hexOfBytes } from "../kit/hex.ts";

/** Characters of a new salt (hex). */
export const SALT_HEX_LENGTH = 20;

/** Shortest `DATAOPS_VAULT_KEY` accepted: HKDF does no key stretching. */
export const MIN_KEY_LENGTH = 16;

/** HKDF `info`: binds derived keys to this use, so the same key can serve elsewhere. */
const INFO = new TextEncoder().encode("secrets-orchestrator vault v1");

/** The JWE protected header of every encrypted vault. */
const HEADER = { alg: "dir", enc: "A256GCM", cty: "application/yaml" } as const;

/** Fewest distinct characters a key must have. */
const MIN_DISTINCT = 8;

/**
 * Why a long enough key is still obviously weak, or null: too few distinct characters
 * (`aaaaaaaaaaaaaaaa`), one short pattern repeated (`abcdefghabcdefgh`, also cut short),
 * or characters mostly in one steady run (`0123456789abcdef`, `ponmlkjihgfedcba`). HKDF does
 * no stretching, so such a key is as weak as it looks.
 */
function weakness(key: string): string | null {
  const chars = [...key];
  const distinct = new Set(chars).size;
  if (distinct < MIN_DISTINCT) {
    return `it has only ${distinct} distinct characters (at least ${MIN_DISTINCT} needed)`;
  }
  for (let period = 1; period <= chars.length / 2; period++) {
    if (chars.every((char, i) => i < period || char === chars[i - period])) {
      return `it repeats the same ${period} characters`;
    }
  }
  // Mostly one steady run up or down (`0123456789abcdef` has a single jump, 9 to a).
  const codes = chars.map((char) => char.codePointAt(0)!);
  for (const step of [1, -1]) {
    const steady = codes.filter((code, i) => i > 0 && code - codes[i - 1] === step).length;
    if (steady >= 0.8 * (codes.length - 1)) return "its characters run in sequence";
  }
  return null;
}

/**
 * Check `DATAOPS_VAULT_KEY` (never quoting it): set, not blank, long enough, and not
 * obviously weak (see {@linkcode weakness}).
 */
export function checkVaultKey(key: string): void {
  if (key.trim() === "") {
    throw new ToolError(
      "config",
      "DATAOPS_VAULT_KEY is set but empty; unset it for a plain vault or set a random key (openssl rand -hex 32)",
    );
  }
  if (key.length < MIN_KEY_LENGTH) {
    throw new ToolError(
      "config",
      `DATAOPS_VAULT_KEY has ${key.length} characters; use at least ${MIN_KEY_LENGTH} random ones (openssl rand -hex 32)`,
    );
  }
  const weak = weakness(key);
  if (weak !== null) {
    throw new ToolError(
      "config",
      `DATAOPS_VAULT_KEY is too weak: ${weak}; use a random key (openssl rand -hex 32)`,
    );
  }
}

/** Parse salt-file text: hex, at least {@linkcode SALT_HEX_LENGTH} characters. */
export function parseSalt(text: string, path: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length < SALT_HEX_LENGTH || hex.length % 2 !== 0) {
    throw new ToolError(
      "vault",
      `the salt file ${path} is not ${SALT_HEX_LENGTH} or more hex characters; restore it (a new salt cannot decrypt the existing vault)`,
    );
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** A new random salt, as hex text. */
export function newSalt(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SALT_HEX_LENGTH / 2));
  return hexOfBytes(bytes);
}

/** Derive the 256-bit content key from `DATAOPS_VAULT_KEY` and the salt (HKDF-SHA-256). */
export async function deriveKey(secret: string, salt: Uint8Array): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    "HKDF",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, info: INFO },
    material,
    256,
  );
  return new Uint8Array(bits);
}

/** Encrypt vault text into one JWE compact line (with a trailing newline). */
export async function encryptVault(text: string, key: Uint8Array): Promise<string> {
  const { CompactEncrypt } = await import("jose");
  const jwe = await new CompactEncrypt(new TextEncoder().encode(text))
    .setProtectedHeader(HEADER)
    .encrypt(key);
  return `${jwe}\n`;
}

/**
 * Decrypt an encrypted vault. Only `dir` + `A256GCM` is accepted; failure to
 * authenticate is a `vault` {@linkcode ToolError} naming the likely causes.
 */
export async function decryptVault(jwe: string, key: Uint8Array, path: string): Promise<string> {
  const { compactDecrypt, errors } = await import("jose");
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await compactDecrypt(jwe.trim(), key, {
      keyManagementAlgorithms: ["dir"],
      contentEncryptionAlgorithms: ["A256GCM"],
    }));
  } catch (error) {
    if (error instanceof errors.JWEDecryptionFailed) {
      throw new ToolError(
        "vault",
        `cannot decrypt the vault ${path}: DATAOPS_VAULT_KEY or vault.salt is not the one it was written with, or the file was modified; nothing was written`,
      );
    }
    if (error instanceof errors.JOSEError) {
      throw new ToolError(
        "vault",
        `the encrypted vault ${path} is not a valid JWE (${error.code}); it was modified or truncated; restore it, nothing was written`,
      );
    }
    throw error;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
  } catch {
    throw new ToolError("vault", `the decrypted vault ${path} is not UTF-8 text; restore it`);
  }
}
