/**
 * The provenance manifest, written beside the vault on every load (`vault.yml.manifest.json`,
 * mode 0600). It holds no values: for every vault key loaded from a backend, the backend,
 * the source secret's name, its version id and last-changed time when the backend reports
 * them, and when it was fetched. It also records the SHA-256 of the vault file it
 * describes, so a manifest that no longer matches the vault is recognised.
 *
 * Commit order: the manifest is written first, then the vault. If the vault write fails,
 * the previous manifest is put back (or the new one removed), so a failed load leaves the
 * vault byte-for-byte unchanged and the manifest describing it.
 *
 * @module
 */

import { hexOfBytes } from "../kit/hex.ts";
import type { Logger } from "../output/log.ts";
import { writeAtomicSync } from "./file.ts";
import { basename, manifestPath } from "./paths.ts";
import { MAX_MANIFEST_BYTES, readRegularBytesSync } from "./regular_file.ts";
import type { StoredVault, VaultStore } from "./store.ts";
import type {
  Backend,
  FetchedSecret,
  Provider,
  ProviderSettings,
  VaultEntry,
} from "../contract/provider.ts";

/** The manifest format version. */
export const MANIFEST_FORMAT = 1;

/** Where one vault key came from. */
export interface KeyProvenance {
  /** The backend (`SECRETS_MANAGER`). */
  backend: Backend;
  /** The backend secret's name. */
  source: string;
  /** The backend's version id, when it reports one. */
  version?: string;
  /** When the backend says the value last changed (ISO 8601), when it reports it. */
  updated?: string;
  /** When the value was fetched (ISO 8601). */
  fetched: string;
}

/** The manifest file's content. */
export interface Manifest {
  /** {@linkcode MANIFEST_FORMAT}. */
  format: number;
  /** The vault file it describes (file name, beside the manifest). */
  vault: string;
  /** Whether that vault is encrypted. */
  encrypted: boolean;
  /** SHA-256 (hex) of the vault file's bytes as written (ciphertext when encrypted). */
  vaultSha256: string | null;
  /** When the last load finished (ISO 8601). */
  loaded: string;
  /** The backend of the last load. */
  backend: Backend;
  /** Provenance per dotted vault key, sorted. Keys not loaded from a backend are absent. */
  keys: Record<string, KeyProvenance>;
}

/** SHA-256 of text (or of its UTF-8 bytes), as hex. */
export async function sha256Hex(text: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return hexOfBytes(new Uint8Array(digest));
}

/** Fetched secrets as vault entries, with each entry's provenance by dotted key. */
export interface MappedSecrets {
  /** How many secrets were mapped. */
  count: number;
  /** The entries, in the order the secrets came. */
  entries: VaultEntry[];
  /** Where each vault key came from. */
  provenance: Map<string, KeyProvenance>;
}

/**
 * Secrets mapped as they arrive (so a large load never holds the fetched set and its
 * entries at once): {@linkcode SecretMapping.add} maps a batch and throws the mapping's
 * error (a name that gives no vault key).
 */
export interface SecretMapping extends MappedSecrets {
  /** Map some secrets. */
  add(secrets: readonly FetchedSecret[]): void;
}

/** Start mapping secrets to vault entries, recording each entry's provenance. */
export function startMapping(
  provider: Pick<Provider, "backend" | "map">,
  settings: ProviderSettings,
  fetched: Date,
): SecretMapping {
  // One string for every record (100,000 keys need not hold 100,000 copies).
  const when = fetched.toISOString();
  const mapping: SecretMapping = {
    count: 0,
    entries: [],
    provenance: new Map(),
    add(secrets) {
      for (const secret of secrets) {
        for (const entry of provider.map(secret, settings)) {
          mapping.entries.push(entry);
          const { version, updated } = secret;
          const record: KeyProvenance = version === undefined && updated === undefined
            ? { backend: provider.backend, source: entry.source, fetched: when }
            : {
              backend: provider.backend,
              source: entry.source,
              ...(version === undefined ? {} : { version: String(version) }),
              ...(updated === undefined ? {} : { updated: String(updated) }),
              fetched: when,
            };
          mapping.provenance.set(entry.path.join("."), record);
        }
        mapping.count++;
      }
    },
  };
  return mapping;
}

/** Records stringified at a time: about 64 KB of text. */
const SLICE = 256;

/** What `JSON.stringify({ keys: slice }, null, 2)` writes around the slice's records. */
const WRAP_HEAD = '{\n  "keys": {\n';
const WRAP_TAIL = "\n  }\n}";

/**
 * The manifest as `JSON.stringify(manifest, null, 2)` writes it, plus a newline, in pieces:
 * 100,000 keys make a text of some 20 MB that need not exist at once. Each piece is
 * `JSON.stringify` of a slice of the records (native code, which a hand-written loop
 * matches only once the JIT has warmed up, long after a load's one manifest), wrapped as
 * the manifest wraps them so that they come out at its depth: re-indenting the text
 * instead (`replaceAll`) took three times as long as the stringify.
 */
export function* manifestText(manifest: Manifest): Generator<string> {
  const { keys, ...head } = manifest;
  const names = Object.keys(keys);
  // `keys` is the last property: the head is the document with an empty `keys`.
  const top = JSON.stringify({ ...head, keys: {} }, null, 2);
  if (names.length === 0) {
    yield `${top}\n`;
    return;
  }
  yield `${top.slice(0, -"{}\n}".length)}{\n`;
  for (let start = 0; start < names.length; start += SLICE) {
    // No prototype: a key named `__proto__` stays a key.
    const slice: Record<string, KeyProvenance> = Object.create(null);
    const end = Math.min(start + SLICE, names.length);
    for (let i = start; i < end; i++) slice[names[i]] = keys[names[i]];
    // Under a `keys` member, as in the whole, the slice's records are at the whole's
    // depth; without the wrapper's lines they are its part of the whole.
    const inner = JSON.stringify({ keys: slice }, null, 2).slice(
      WRAP_HEAD.length,
      -WRAP_TAIL.length,
    );
    yield `${inner}${end < names.length ? "," : ""}\n`;
  }
  yield "  }\n}\n";
}

/** The manifest's text, or null when absent (a link, special or huge file is refused). */
function readManifestText(path: string): string | null {
  const bytes = readRegularBytesSync(path, "the manifest", MAX_MANIFEST_BYTES);
  // Bad UTF-8 is one more way of being a broken manifest: warned about and ignored.
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/** Parse manifest text; a file that is not a manifest gives a reason instead. */
export function parseManifest(text: string): Manifest | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return "it is not valid JSON";
  }
  const manifest = data as Partial<Manifest> | null;
  if (
    typeof manifest !== "object" || manifest === null || manifest.format !== MANIFEST_FORMAT ||
    typeof manifest.keys !== "object" || manifest.keys === null
  ) {
    return `it is not a format-${MANIFEST_FORMAT} manifest`;
  }
  return manifest as Manifest;
}

/** Read the manifest beside the vault: null when absent; a broken one is warned about and ignored. */
export function readManifestSync(vaultPath: string, log: Logger): Manifest | null {
  const path = manifestPath(vaultPath);
  const text = readManifestText(path);
  if (text === null) return null;
  const parsed = parseManifest(text);
  if (typeof parsed === "string") {
    log.warn(`ignoring the manifest ${path}: ${parsed}; the next load rewrites it`);
    return null;
  }
  return parsed;
}

/**
 * The manifest describing `vault` as read: null when there is none, or when it was written
 * for other vault bytes (the vault was edited or restored since), which is warned about.
 */
export async function readMatchingManifest(
  store: VaultStore,
  vault: StoredVault,
  log: Logger,
): Promise<Manifest | null> {
  const manifest = readManifestSync(store.plainPath, log);
  if (manifest === null) return null;
  // Before the first encrypted write, the vault read is the plain base layer.
  const file = vault.exists ? store.path : store.plainPath;
  const content = vault.exists ? vault.raw : vault.text;
  const digest = content === null ? null : await sha256Hex(content);
  if (manifest.vaultSha256 !== digest || manifest.vault !== basename(file)) {
    log.warn(
      `the manifest ${
        manifestPath(store.plainPath)
      } does not describe the current vault (edited since the last load?); its provenance is not shown`,
    );
    return null;
  }
  return manifest;
}

/**
 * The record of `key` in `manifest`: only its own entries count, so a vault key such as
 * `constructor` finds nothing in a manifest that never recorded it.
 */
export function recordOf(manifest: Manifest, key: string): KeyProvenance | undefined {
  const record = Object.hasOwn(manifest.keys, key) ? manifest.keys[key] : undefined;
  return typeof record === "object" && record !== null ? record : undefined;
}

/**
 * The manifest after a load: every leaf of the merged vault that this load fetched gets
 * its new provenance; other leaves keep their previous record; keys no longer in the
 * vault are dropped.
 */
export function buildManifest(options: {
  previous: Manifest | null;
  fetched: ReadonlyMap<string, KeyProvenance>;
  vault: StoredVault;
  store: VaultStore;
  vaultSha256: string | null;
  backend: Backend;
  loaded: Date;
}): Manifest {
  // No prototype: a key named `__proto__` is a key like any other.
  const keys: Record<string, KeyProvenance> = Object.create(null);
  options.vault.doc.forEachLeafKey((key) => {
    const record = options.fetched.get(key) ??
      (options.previous ? recordOf(options.previous, key) : undefined);
    if (record) keys[key] = record;
  });
  return {
    format: MANIFEST_FORMAT,
    vault: basename(options.store.path),
    encrypted: options.store.encrypted,
    vaultSha256: options.vaultSha256,
    loaded: options.loaded.toISOString(),
    backend: options.backend,
    keys,
  };
}

/**
 * Commit a load under the vault lock: write the manifest, then the vault (when `text` is
 * not null). If the vault write fails, the previous manifest is restored and the error
 * rethrown; the vault is unchanged.
 */
export async function commitLoad(options: {
  store: VaultStore;
  vault: StoredVault;
  text: string | null;
  fetched: ReadonlyMap<string, KeyProvenance>;
  backend: Backend;
  log: Logger;
}): Promise<void> {
  const { store, vault, text, log } = options;
  const sealed = text === null ? vault.raw : await store.seal(text);
  // Encoded once, for both the digest and the write.
  const raw = sealed === null ? null : new TextEncoder().encode(sealed);
  const path = manifestPath(store.plainPath);
  const previousText = readManifestText(path);
  const previous = previousText === null ? null : parseManifest(previousText);
  const manifest = buildManifest({
    previous: typeof previous === "string" ? null : previous,
    fetched: options.fetched,
    vault,
    store,
    vaultSha256: raw === null ? null : await sha256Hex(raw),
    backend: options.backend,
    loaded: new Date(),
  });
  writeAtomicSync(path, manifestText(manifest), "the manifest");
  if (text === null || raw === null) return;
  try {
    store.put(raw);
  } catch (error) {
    try {
      if (previousText === null) Deno.removeSync(path);
      else writeAtomicSync(path, previousText, "the manifest");
    } catch {
      log.warn(`could not restore the manifest ${path}; it describes a load that failed`);
    }
    throw error;
  }
}
