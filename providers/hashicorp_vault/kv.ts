/**
 * The KV secrets engine, versions 1 and 2: finding each selector's mount (and checking its
 * engine and version), listing folders (recursively, concurrently, lazily, with a cap) and
 * reading secrets, all through one bounded limiter; listed keys that would leave their
 * folder are refused.
 *
 * @module
 */

import { ToolError } from "../../lib/kit/errors.ts";
import { MAX_LISTED_ENTRIES } from "../../lib/kit/paging.ts";
import type { AdaptiveLimiter, Limiter } from "../../lib/kit/limiters.ts";
import type { FetchedSecret, ProviderLog, SecretValue } from "../../lib/contract/provider.ts";
import type { VaultSelector } from "./config.ts";
import type { VaultBody, VaultClient } from "./http.ts";

/** What a KV walk needs. */
export interface KvContext {
  /** The Vault client. */
  client: VaultClient;
  /** The client token. */
  token: string;
  /** How the token was obtained, for messages. */
  via: string;
  /** KV version of the mounts. */
  version: 1 | 2;
  /** Bounds the requests in flight. */
  limiter: Limiter;
  /** Log lines. */
  log: ProviderLog;
  /** `SECRETS_SELECTION_FILTER`: keep only secrets whose `MOUNT/PATH` contains it. */
  filter?: string;
  /** `SECRETS_ALLOW_MISSING`: a selector naming nothing is a warning, not an error. */
  allowMissing?: boolean;
  /** Hand over a secret. */
  emit(secret: FetchedSecret): void;
}

/** The result of a LIST. */
type ListResult = { kind: "keys"; keys: string[] } | { kind: "missing"; noMount: boolean } | {
  kind: "denied";
};

/** The result of a read. */
type ReadResult =
  | { kind: "secret"; data: Record<string, SecretValue>; version?: string; updated?: string }
  | { kind: "deleted"; version: string; at: string }
  | { kind: "destroyed"; version: string }
  | { kind: "missing" }
  | { kind: "denied" };

function encodePath(path: string): string {
  // A lone surrogate (which HashiCorp Vault, storing UTF-8, never lists) is sent as U+FFFD,
  // as any UTF-8 encoder would, instead of throwing.
  return path.split("/").map((segment) => encodeURIComponent(segment.toWellFormed())).join("/");
}

function join(folder: string, name: string): string {
  return folder === "" ? name : `${folder}/${name}`;
}

/** The API path to LIST a folder (always with a trailing slash, as Vault's router does). */
export function listApiPath(version: 1 | 2, mount: string, folder: string): string {
  const below = folder === "" ? "" : `${encodePath(folder)}/`;
  return version === 2 ? `${mount}/metadata/${below}` : `${mount}/${below}`;
}

/** The API path to read a secret. */
export function readApiPath(version: 1 | 2, mount: string, path: string): string {
  return version === 2 ? `${mount}/data/${encodePath(path)}` : `${mount}/${encodePath(path)}`;
}

function denied(kv: KvContext, capability: "list" | "read", apiPath: string): ToolError {
  return new ToolError(
    "auth",
    `HashiCorp Vault denied "${capability}" on ${apiPath} (HTTP 403 permission denied): add the "${capability}" capability on this path to the policy of ${kv.via}, or check that the token is valid`,
  );
}

function unexpected(operation: string, apiPath: string, status: number): ToolError {
  return new ToolError(
    "backend",
    `HashiCorp Vault ${operation} ${apiPath} answered HTTP ${status}; check the path and Vault's logs`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function noHandler(body: VaultBody | undefined): boolean {
  return body?.errors?.some((e) => /no handler for route/i.test(e)) ?? false;
}

async function list(kv: KvContext, mount: string, folder: string): Promise<ListResult> {
  const apiPath = listApiPath(kv.version, mount, folder);
  const { status, body } = await kv.limiter.run(() =>
    kv.client.request("LIST", apiPath, { token: kv.token })
  );
  if (status === 403) return { kind: "denied" };
  if (status === 404) return { kind: "missing", noMount: noHandler(body) };
  if (status !== 200) throw unexpected("LIST", apiPath, status);
  const keys = isRecord(body?.data) ? body.data.keys : undefined;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
    throw new ToolError(
      "backend",
      `HashiCorp Vault LIST ${apiPath}: the answer has no data.keys list`,
    );
  }
  for (const key of keys as string[]) checkListedKey(key, mount, folder);
  return { kind: "keys", keys: keys as string[] };
}

/**
 * Refuse a listed key that is not a plain name below its folder: an empty, `.` or `..`
 * segment (or a leading `/`) would make the next request, which carries the token, reach
 * a path outside the mount once the URL is normalised (`LIST /v1/sys/raw/`).
 */
export function checkListedKey(key: string, mount: string, folder: string): void {
  const bare = key.endsWith("/") ? key.slice(0, -1) : key;
  const bad = bare.split("/").some((part) => part === "" || part === "." || part === "..");
  if (!bad) return;
  throw new ToolError(
    "backend",
    `HashiCorp Vault listed the key ${
      JSON.stringify(key.slice(0, 100))
    } in folder ${mount}/${folder}${
      folder === "" ? "" : "/"
    }, which is not a plain name (an empty, "." or ".." segment, or a leading "/"); refusing to send the token to a path outside the folder: check the server at this address is a genuine HashiCorp Vault`,
  );
}

async function read(
  kv: KvContext,
  mount: string,
  path: string,
  version?: number,
): Promise<ReadResult> {
  const apiPath = readApiPath(kv.version, mount, path) +
    (version === undefined ? "" : `?version=${version}`);
  const { status, body } = await kv.limiter.run(() =>
    kv.client.request("GET", apiPath, { token: kv.token })
  );
  if (status === 403) return { kind: "denied" };
  const data = isRecord(body?.data) ? body.data : undefined;
  if (kv.version === 2) {
    const metadata = isRecord(data?.metadata) ? data.metadata : undefined;
    const version = metadata?.version === undefined ? undefined : String(metadata.version);
    if (status === 404) {
      if (metadata?.destroyed === true) return { kind: "destroyed", version: version ?? "?" };
      if (typeof metadata?.deletion_time === "string" && metadata.deletion_time !== "") {
        return { kind: "deleted", version: version ?? "?", at: metadata.deletion_time };
      }
      return { kind: "missing" };
    }
    if (status !== 200) throw unexpected("GET", apiPath, status);
    if (!isRecord(data?.data)) {
      throw new ToolError(
        "backend",
        `HashiCorp Vault GET ${apiPath}: the answer has no data.data object`,
      );
    }
    const created = metadata?.created_time;
    return {
      kind: "secret",
      data: data.data as Record<string, SecretValue>,
      version,
      updated: typeof created === "string" && created !== "" ? created : undefined,
    };
  }
  if (status === 404) return { kind: "missing" };
  if (status !== 200) throw unexpected("GET", apiPath, status);
  if (!data) {
    throw new ToolError("backend", `HashiCorp Vault GET ${apiPath}: the answer has no data`);
  }
  return { kind: "secret", data: data as Record<string, SecretValue> };
}

/** A selector whose mount is known: asked of Vault, or guessed as its first segment. */
export interface ResolvedSelector {
  /** The selector as configured. */
  selector: VaultSelector;
  /** The mount, without edge slashes (may contain slashes: `team/kv`). */
  mount: string;
  /** The path below the mount ("" for the whole mount). */
  path: string;
  /** Why the first segment was taken as the mount, when Vault could not say (for errors). */
  guessed?: string;
}

/**
 * The mount an answer's `data.path` names, as a prefix of `full`. In a child namespace
 * Vault puts the namespace in front of the mount path; those leading segments are dropped
 * until the mount prefixes the selection, as Vault's CLI does.
 */
export function mountWithin(answered: string, full: string): string | undefined {
  let mount = answered.replace(/^\/+|\/+$/g, "");
  while (mount !== "") {
    if (full === mount || full.startsWith(`${mount}/`)) return mount;
    const slash = mount.indexOf("/");
    mount = slash < 0 ? "" : mount.slice(slash + 1);
  }
  return undefined;
}

/**
 * Find the mount of a selector as Vault's CLI does: `GET sys/internal/ui/mounts/PATH`
 * answers the longest mount that contains PATH (its `data.path`, `data.type` and
 * `data.options.version`), so mounts may contain slashes. Where Vault refuses (HTTP 403:
 * no such mount, or the token's policies grant nothing below it) or is too old to know the
 * endpoint (404), the first segment is taken as the mount and later errors say so. A mount
 * that is not KV, or of another KV version than configured, is a configuration error.
 */
export async function resolveMount(
  kv: KvContext,
  selector: VaultSelector,
): Promise<ResolvedSelector> {
  const full = selector.path === "" ? selector.mount : `${selector.mount}/${selector.path}`;
  const apiPath = `sys/internal/ui/mounts/${encodePath(full)}`;
  const { status, body } = await kv.limiter.run(() =>
    kv.client.request("GET", apiPath, { token: kv.token })
  );
  const data = isRecord(body?.data) ? body.data : undefined;
  if (status !== 200 || typeof data?.path !== "string") {
    const guessed =
      `the mount was taken to be the first segment, because GET ${apiPath} answered HTTP ${status}${
        status === 403 ? " (no such mount, or the policy grants nothing below it)" : ""
      }`;
    kv.log.debug(`${full}: ${guessed}`);
    return { selector, mount: selector.mount, path: selector.path, guessed };
  }
  const mount = mountWithin(data.path, full);
  if (mount === undefined) {
    throw new ToolError(
      "backend",
      `HashiCorp Vault GET ${apiPath} answered the mount ${
        JSON.stringify(data.path.slice(0, 100))
      }, which does not contain ${full}; check that the address points at HashiCorp Vault`,
    );
  }
  const type = data.type;
  const options = isRecord(data.options) ? data.options : {};
  if (typeof type === "string" && type !== "kv" && type !== "generic") {
    throw new ToolError(
      "config",
      `mount "${mount}" is a ${type} secrets engine, not KV; select a KV mount in SECRETS_SELECTION`,
    );
  }
  const actual = String(options.version ?? "1") === "2" ? 2 : 1;
  if (actual !== kv.version) {
    throw new ToolError(
      "config",
      `mount "${mount}" is KV version ${actual}, but SECRETS_HASHICORP_VAULT_KV_VERSION is ${kv.version}; set SECRETS_HASHICORP_VAULT_KV_VERSION=${actual}`,
    );
  }
  kv.log.debug(`${full}: mount ${mount}, KV version ${actual}`);
  return { selector, mount, path: full === mount ? "" : full.slice(mount.length + 1) };
}

/** Runs tasks that spawn tasks; `wait` settles them all, then throws the first error. */
class TaskGroup {
  #pending = new Set<Promise<void>>();
  #error: { error: unknown } | undefined;

  /** Whether a task has failed (new work should not start). */
  get failed(): boolean {
    return this.#error !== undefined;
  }

  /** Start a task. */
  spawn(fn: () => Promise<void>): void {
    if (this.#error) return;
    const task: Promise<void> = fn().catch((error) => {
      this.#error ??= { error };
    }).finally(() => this.#pending.delete(task));
    this.#pending.add(task);
  }

  /** Wait for every task, including ones spawned meanwhile; throw the first error. */
  async wait(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    if (this.#error) throw this.#error.error;
  }
}

/** Read the secrets that `selectors` name, walking folders, and emit each. */
export async function walkSelectors(kv: KvContext, selectors: VaultSelector[]): Promise<number> {
  const group = new TaskGroup();
  const seen = new Set<string>();
  let emitted = 0;

  const readSecret = async (
    mount: string,
    path: string,
    required: boolean,
    known?: ReadResult,
    selector?: VaultSelector,
  ) => {
    const name = `${mount}/${path}`;
    // Selectors with different options each load a secret they share.
    const identity = `${name}\0${JSON.stringify([selector?.version, selector?.pick])}`;
    if (seen.has(identity)) return;
    seen.add(identity);
    if (kv.filter && !name.includes(kv.filter)) return;
    if (group.failed) return;
    const result = known ?? await read(kv, mount, path);
    const pick = selector?.pick;
    switch (result.kind) {
      case "secret":
        kv.emit({
          name,
          mount,
          value: result.data,
          version: result.version,
          updated: result.updated,
          ...(pick ? { pick } : {}),
        });
        emitted++;
        return;
      case "deleted":
        kv.log.warn(
          `skipped ${name}: its latest version (${result.version}) was deleted at ${result.at}`,
        );
        return;
      case "destroyed":
        kv.log.warn(`skipped ${name}: its latest version (${result.version}) is destroyed`);
        return;
      case "denied":
        throw denied(kv, "read", readApiPath(kv.version, mount, path));
      case "missing":
        if (required && kv.allowMissing) {
          kv.log.warn(`skipped ${name}: it does not exist (SECRETS_ALLOW_MISSING)`);
          return;
        }
        if (required) {
          throw new ToolError(
            "config",
            `SECRETS_SELECTION: ${name} is not a secret in mount ${mount}`,
          );
        }
        kv.log.warn(`skipped ${name}: listed but gone when read`);
    }
  };

  // Reads and folder lists wait in plain queues and become tasks only as the limiter can
  // take them, so a folder of 10,000 secrets (or of 10,000 folders, each as large) does
  // not hold 10,000 suspended requests and their promises; the listed entries are capped.
  const reads: (() => Promise<void>)[] = [];
  let nextRead = 0;
  let reading = 0;
  const folders: { mount: string; folder: string; selector: VaultSelector }[] = [];
  let nextFolder = 0;
  let listing = 0;
  let listedEntries = 0;
  const pump = () => {
    // A few requests beyond the limiter's slots keep it busy without a long backlog.
    const ahead = 2 * ("limit" in kv.limiter ? (kv.limiter as AdaptiveLimiter).limit : 32);
    while (!group.failed && reading < ahead && nextRead < reads.length) {
      const job = reads[nextRead];
      reads[nextRead++] = undefined as unknown as () => Promise<void>;
      reading++;
      group.spawn(() =>
        job().finally(() => {
          reading--;
          pump();
        })
      );
    }
    if (nextRead === reads.length) reads.length = nextRead = 0;
    while (!group.failed && listing < ahead && nextFolder < folders.length) {
      const { mount, folder, selector } = folders[nextFolder];
      folders[nextFolder++] = undefined as unknown as (typeof folders)[number];
      listing++;
      group.spawn(() =>
        listFolder(mount, folder, selector).finally(() => {
          listing--;
          pump();
        })
      );
    }
    if (nextFolder === folders.length) folders.length = nextFolder = 0;
  };

  const listFolder = async (mount: string, folder: string, selector: VaultSelector) => {
    if (group.failed) return;
    const result = await list(kv, mount, folder);
    if (result.kind === "denied") {
      throw denied(kv, "list", listApiPath(kv.version, mount, folder));
    }
    if (result.kind === "keys") walk(mount, folder, result.keys, selector);
  };

  const walk = (mount: string, folder: string, keys: string[], selector: VaultSelector) => {
    listedEntries += keys.length;
    if (listedEntries > MAX_LISTED_ENTRIES) {
      throw new ToolError(
        "backend",
        `HashiCorp Vault listed more than ${
          MAX_LISTED_ENTRIES.toLocaleString("en-US")
        } entries (secrets and folders) below the selection, the most one run walks (the last at ${mount}/${folder}); select narrower folders in SECRETS_SELECTION`,
      );
    }
    for (const key of keys) {
      if (key.endsWith("/")) {
        folders.push({ mount, folder: join(folder, key.slice(0, -1)), selector });
      } else reads.push(() => readSecret(mount, join(folder, key), false, undefined, selector));
    }
    pump();
  };

  /** A pinned version: one read; a version that is absent, deleted or destroyed fails. */
  const readPinned = async (selector: VaultSelector, version: number) => {
    const { mount, path } = selector;
    const name = `${mount}/${path}`;
    if (kv.filter && !name.includes(kv.filter)) return;
    const result = await read(kv, mount, path, version);
    if (result.kind === "secret") return readSecret(mount, path, true, result, selector);
    if (result.kind === "denied") throw denied(kv, "read", readApiPath(kv.version, mount, path));
    const why = result.kind === "deleted"
      ? `version ${version} was deleted at ${result.at}`
      : result.kind === "destroyed"
      ? `version ${version} is destroyed`
      : `has no version ${version} (or does not exist)`;
    if (kv.allowMissing) {
      kv.log.warn(`skipped ${name}: ${why} (SECRETS_ALLOW_MISSING)`);
      return;
    }
    throw new ToolError(
      "config",
      `SECRETS_SELECTION entry "${selector.text}": ${name} ${why}; fix ;version= in SECRETS_SELECTION${
        result.kind === "deleted" ? " or undelete the version" : ""
      }`,
    );
  };

  for (const selector of selectors) {
    group.spawn(async () => {
      const { mount, path, guessed } = await resolveMount(kv, selector);
      if (group.failed) return;
      if (selector.version !== undefined) {
        return await readPinned({ ...selector, mount, path }, selector.version);
      }
      const [listed, single] = await Promise.all([
        list(kv, mount, path),
        selector.folderOnly || path === "" ? undefined : read(kv, mount, path),
      ]);
      let found = false;
      if (listed.kind === "keys") {
        found = true;
        walk(mount, path, listed.keys, selector);
      }
      if (single && single.kind !== "missing" && single.kind !== "denied") {
        found = true;
        group.spawn(() => readSecret(mount, path, true, single, selector));
      }
      if (found) return;
      const listDenied = listed.kind === "denied";
      const readDenied = single?.kind === "denied";
      if (listDenied && readDenied) {
        throw new ToolError(
          "auth",
          `HashiCorp Vault denied both "list" on ${
            listApiPath(kv.version, mount, path)
          } and "read" on ${
            readApiPath(kv.version, mount, path)
          } (HTTP 403 permission denied): grant them to the policy of ${kv.via}, or check that the token is valid`,
        );
      }
      if (readDenied) throw denied(kv, "read", readApiPath(kv.version, mount, path));
      if (listDenied) throw denied(kv, "list", listApiPath(kv.version, mount, path));
      if (listed.kind === "missing" && listed.noMount) {
        throw new ToolError(
          "config",
          `SECRETS_SELECTION: no secrets engine is mounted at "${mount}/"; check the mount name and the namespace${
            guessed ? ` (${guessed})` : ""
          }`,
        );
      }
      if (path === "") {
        kv.log.warn(`mount ${mount} holds no secrets`);
        return;
      }
      if (kv.allowMissing) {
        kv.log.warn(
          `SECRETS_SELECTION entry "${selector.text}" matches no secret or folder in mount ${mount}; skipped (SECRETS_ALLOW_MISSING)`,
        );
        return;
      }
      throw new ToolError(
        "config",
        `SECRETS_SELECTION entry "${selector.text}" matches no secret or folder in mount ${mount} (KV version ${kv.version}); check the path, the namespace and SECRETS_HASHICORP_VAULT_KV_VERSION${
          guessed ? ` (${guessed})` : ""
        }`,
      );
    });
  }
  await group.wait();
  return emitted;
}
