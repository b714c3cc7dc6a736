/**
 * A fake HashiCorp Vault following the HTTP API documentation: KV version 1 and 2 engines
 * (`LIST` and `GET ?list=true`, the v1 and v2 response envelopes, 404 `{"errors":[]}` for
 * missing paths, 404 with metadata for a deleted or destroyed version; numbered versions
 * read with `?version=N`, a version never written a bare 404), namespaces
 * (`X-Vault-Namespace`; secrets, users, roles and tokens live in one namespace), ACL
 * policies (`read`/`list` per path, globs `*` and `+`), token checking, JWT login (signature,
 * `exp`, bound claims and audiences checked), AppRole login (`role_id` and `secret_id`),
 * Kubernetes login (the service-account JWT verified as the TokenReview API would, then
 * the role's bound service-account names and namespaces), userpass login, `auth/token/revoke-self`,
 * `sys/internal/ui/mounts/PATH`, rate-limit quotas (429) and a sealed state (503).
 *
 * Use with `startFake(fakeVault(data, options).handler)`.
 *
 * @module
 */

import { jwtVerify } from "jose";

/** A capability a policy grants. */
export type Capability = "read" | "list" | "deny";

/** One KV secret. For v2, `deleted`/`destroyed` describe its latest version. */
export interface FakeKvSecret {
  /** The key/value data. */
  data: Record<string, unknown>;
  /** Latest version number (v2; default 1, or one past `history`). */
  version?: number;
  /** The latest version was soft-deleted (v2). */
  deleted?: boolean;
  /** The latest version was destroyed (v2). */
  destroyed?: boolean;
  /** Older versions (v2), oldest first: versions 1, 2, ... below the latest. */
  history?: FakeKvVersion[];
}

/** One older KV version 2 version of a secret. */
export interface FakeKvVersion {
  /** Its data (kept even when deleted, as Vault keeps a soft-deleted version's data). */
  data: Record<string, unknown>;
  /** Soft-deleted: reads answer 404 with `metadata.deletion_time` set. */
  deleted?: boolean;
  /** Destroyed: reads answer 404 with `metadata.destroyed` true. */
  destroyed?: boolean;
}

/** A KV mount. */
export interface FakeMount {
  /** KV version. */
  version: 1 | 2;
  /** Secrets by path below the mount (`A/B`). */
  secrets: Record<string, FakeKvSecret>;
  /** Report `options: null` for a v1 mount in `sys/internal/ui/mounts`, as old mounts do. */
  nullOptions?: boolean;
  /** Engine type reported (default `kv`). */
  type?: string;
}

/** A token the fake accepts. */
export interface FakeToken {
  /** Policy names. */
  policies: string[];
  /** Namespace the token belongs to ("" for root). */
  namespace?: string;
}

/** A JWT auth role. */
export interface FakeJwtRole {
  /** Claims that must match exactly (a list means any of). */
  boundClaims: Record<string, string | string[]>;
  /** Accepted `aud` values (optional). */
  boundAudiences?: string[];
  /** Policies of issued tokens. */
  policies: string[];
  /** Namespace the role lives in ("" for root). */
  namespace?: string;
}

/** A userpass user. */
export interface FakeUser {
  /** The password. */
  password: string;
  /** Policies of issued tokens. */
  policies: string[];
  /** Namespace the user lives in ("" for root). */
  namespace?: string;
}

/** An AppRole role. */
export interface FakeAppRole {
  /** Its role id. */
  roleId: string;
  /** Secret ids issued for it. */
  secretIds: string[];
  /** Policies of issued tokens. */
  policies: string[];
  /** Namespace the role lives in ("" for root). */
  namespace?: string;
}

/** A Kubernetes auth role. */
export interface FakeKubernetesRole {
  /** `bound_service_account_names`. */
  serviceAccounts: string[];
  /** `bound_service_account_namespaces`. */
  namespaces: string[];
  /** Policies of issued tokens. */
  policies: string[];
}

/** The data a fake Vault serves. */
export interface FakeVaultData {
  /** KV mounts by namespace ("" is the root namespace) then mount path (may contain `/`). */
  namespaces: Record<string, Record<string, FakeMount>>;
  /** ACL policies by name: path pattern (as in HCL `path "..."`) → capabilities. */
  policies: Record<string, Record<string, Capability[]>>;
  /** Pre-issued tokens. */
  tokens?: Record<string, FakeToken>;
  /** userpass users by name (mounted at `auth/userpass`). */
  users?: Record<string, FakeUser>;
  /** JWT auth method: its mount, the key that verifies tokens, its roles. */
  jwt?: { mount?: string; key: CryptoKey; roles: Record<string, FakeJwtRole> };
  /** AppRole auth method: its mount (default `approle`) and roles by name. */
  approle?: { mount?: string; roles: Record<string, FakeAppRole> };
  /**
   * Kubernetes auth method: its mount (default `kubernetes`), the cluster's key that signs
   * service-account tokens (TokenReview), and roles by name.
   */
  kubernetes?: { mount?: string; key: CryptoKey; roles: Record<string, FakeKubernetesRole> };
}

/** Behaviour switches. */
export interface FakeVaultOptions {
  /** Answer 503 "Vault is sealed" to everything. */
  sealed?: boolean;
  /** Answer 429 to the first N KV requests (rate-limit quota). */
  throttleFirst?: number;
  /** Answer 500 to the first N KV requests (after any 429s). */
  failFirst?: number;
  /** Refuse requests without `X-Vault-Request: true`, as a Vault Agent listener with
   * `require_request_header` does (412). */
  requireRequestHeader?: boolean;
  /** Delay every KV and `sys/` answer by this many milliseconds (logins stay fast). */
  kvLatencyMs?: number;
  /** Token TTL reported by logins, in seconds (default 2764800). */
  leaseDuration?: number;
  /** Answer 503 "Vault is sealed" to the first N requests, then serve (an HA failover). */
  sealedFirst?: number;
  /**
   * A hostile or broken server: the keys a KV LIST answers for `folder` (the path below
   * the mount, "" for its root), instead of the stored ones; undefined keeps the stored.
   */
  listKeys?: (mount: string, folder: string) => string[] | undefined;
  /** Answer every KV request with this redirect (as a standby node without forwarding). */
  redirect?: { status: 301 | 302 | 303 | 307 | 308; location: string };
  /** Answer KV reads with a body of this many bytes (streamed, no Content-Length). */
  hugeReadBytes?: number;
}

/** What the fake saw. */
export interface FakeVaultCounters {
  /** Logins that succeeded, by method (AppRole and Kubernetes only when configured). */
  logins: { jwt: number; userpass: number; approle?: number; kubernetes?: number };
  /** Logins refused. */
  failedLogins: number;
  /** Tokens issued by logins. */
  issued: string[];
  /** Tokens revoked through revoke-self. */
  revoked: string[];
  /** 429 answers given. */
  throttled: number;
  /** 500 answers given. */
  failed: number;
  /** Requests refused with 403. */
  denied: number;
  /** Namespaces seen in requests ("" when the header was absent). */
  namespaces: Set<string>;
  /** KV reads answered with data. */
  reads: number;
  /** KV lists answered with keys. */
  lists: number;
}

/** A fake Vault. */
export interface FakeVault {
  /** The request handler for `startFake`. */
  handler: (request: Request) => Promise<Response>;
  /** Counters. */
  counters: FakeVaultCounters;
  /** The options, mutable (e.g. to seal it between runs). */
  options: FakeVaultOptions;
}

const PERMISSION_DENIED = ["permission denied"];

/** Wait `ms`, or less when the client goes away. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

function envelope(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    request_id: crypto.randomUUID(),
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth: null,
    ...fields,
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers },
  });
}

function errors(status: number, list: string[]): Response {
  return json(status, { errors: list });
}

/** Whether an ACL path pattern matches a request path (`*` suffix glob, `+` one segment). */
/**
 * The secret names of a mount, sorted, computed once per secrets object: a `LIST` costs
 * O(log n + folder) instead of a scan of every secret (100,000 in the benchmark). Tests
 * replace a mount's `secrets` object to change it, which starts a new index.
 */
const namesOf = new WeakMap<object, string[]>();
function sortedNames(secrets: Record<string, unknown>): string[] {
  let names = namesOf.get(secrets);
  if (!names) namesOf.set(secrets, names = Object.keys(secrets).sort());
  return names;
}

export function policyMatches(pattern: string, path: string): boolean {
  const glob = pattern.endsWith("*");
  const fixed = glob ? pattern.slice(0, -1) : pattern;
  const patternParts = fixed.split("/");
  const pathParts = path.split("/");
  if (!glob && patternParts.length !== pathParts.length) return false;
  if (glob && pathParts.length < patternParts.length) return false;
  for (let i = 0; i < patternParts.length; i++) {
    const want = patternParts[i];
    const have = pathParts[i];
    const last = i === patternParts.length - 1;
    if (want === "+") continue;
    if (glob && last) {
      if (!have.startsWith(want)) return false;
    } else if (want !== have) return false;
  }
  return true;
}

/** The longest mount whose path (plus `/`) starts `path`, as Vault's router matches. */
function matchMount(
  mounts: Record<string, FakeMount>,
  path: string,
): [string, FakeMount] | undefined {
  let best: string | undefined;
  for (const name of Object.keys(mounts)) {
    if ((path === name || path.startsWith(`${name}/`)) && name.length > (best?.length ?? -1)) {
      best = name;
    }
  }
  return best === undefined ? undefined : [best, mounts[best]];
}

/** A read answer of `bytes` bytes, streamed in 64 KiB chunks without a Content-Length. */
function hugeRead(bytes: number): Response {
  const head = new TextEncoder().encode('{"data":{"data":{"V":"');
  const chunk = new Uint8Array(65536).fill(0x61);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(head);
      if (sent >= bytes) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "application/json" } });
}

/** Create a fake Vault serving `data`. */
export function fakeVault(data: FakeVaultData, options: FakeVaultOptions = {}): FakeVault {
  const tokens = new Map<string, FakeToken>(Object.entries(data.tokens ?? {}));
  const counters: FakeVaultCounters = {
    logins: {
      jwt: 0,
      userpass: 0,
      ...(data.approle ? { approle: 0 } : {}),
      ...(data.kubernetes ? { kubernetes: 0 } : {}),
    },
    failedLogins: 0,
    issued: [],
    revoked: [],
    throttled: 0,
    failed: 0,
    denied: 0,
    namespaces: new Set(),
    reads: 0,
    lists: 0,
  };
  let kvRequests = 0;
  let sealedAnswers = 0;
  let kvFailures = 0;

  // As Vault does: the token's policies are merged into one rule per path pattern; an
  // exact pattern wins, else the longest matching pattern; `deny` in it refuses.
  const allowed = (token: FakeToken, capability: Capability, path: string): boolean => {
    const merged = new Map<string, Set<Capability>>();
    for (const name of token.policies) {
      for (const [pattern, caps] of Object.entries(data.policies[name] ?? {})) {
        const set = merged.get(pattern) ?? new Set();
        for (const cap of caps) set.add(cap);
        merged.set(pattern, set);
      }
    }
    let best: { pattern: string; caps: Set<Capability> } | undefined;
    for (const [pattern, caps] of merged) {
      if (!policyMatches(pattern, path)) continue;
      if (pattern === path) {
        best = { pattern, caps };
        break;
      }
      if (!best || pattern.length > best.pattern.length) best = { pattern, caps };
    }
    return best !== undefined && !best.caps.has("deny") && best.caps.has(capability);
  };

  // As Vault's hasMountAccess: some rule at or below the mount (or a glob covering it)
  // grants a capability other than deny.
  const anyGrantUnder = (token: FakeToken, mount: string): boolean =>
    token.policies.some((name) =>
      Object.entries(data.policies[name] ?? {}).some(([pattern, caps]) =>
        (pattern.startsWith(`${mount}/`) ||
          (pattern.endsWith("*") && `${mount}/`.startsWith(pattern.slice(0, -1)))) &&
        caps.some((c) => c !== "deny")
      )
    );

  const issue = (
    policies: string[],
    namespace: string,
    kind: keyof FakeVaultCounters["logins"],
  ) => {
    const token = `hvs.${crypto.randomUUID().replaceAll("-", "")}`;
    tokens.set(token, { policies, namespace });
    counters.issued.push(token);
    counters.logins[kind] = (counters.logins[kind] ?? 0) + 1;
    return json(
      200,
      envelope({
        auth: {
          client_token: token,
          accessor: crypto.randomUUID(),
          policies: ["default", ...policies],
          token_policies: ["default", ...policies],
          metadata: {},
          lease_duration: options.leaseDuration ?? 2764800,
          renewable: true,
          entity_id: "",
          token_type: "service",
          orphan: true,
        },
      }),
    );
  };

  const refuse = (message: string) => {
    counters.failedLogins++;
    return errors(400, [message]);
  };

  const readJson = async (request: Request): Promise<Record<string, unknown> | undefined> => {
    try {
      const body: unknown = await request.json();
      return typeof body === "object" && body !== null
        ? body as Record<string, unknown>
        : undefined;
    } catch {
      return undefined;
    }
  };

  const jwtLogin = async (request: Request, namespace: string): Promise<Response> => {
    const body = await readJson(request);
    const role = body?.role;
    const jwt = body?.jwt;
    if (typeof role !== "string" || role === "") return refuse("missing role");
    if (typeof jwt !== "string" || jwt === "") return refuse("missing token");
    const config = data.jwt!;
    const found = config.roles[role];
    if (!found || (found.namespace ?? "") !== namespace) {
      return refuse(`role "${role}" could not be found`);
    }
    let payload: Record<string, unknown>;
    try {
      payload = (await jwtVerify(jwt, config.key)).payload as Record<string, unknown>;
    } catch (error) {
      return refuse(`error validating token: ${error instanceof Error ? error.name : "invalid"}`);
    }
    if (found.boundAudiences) {
      const aud = payload.aud;
      const auds = Array.isArray(aud) ? aud : [aud];
      if (!auds.some((a) => found.boundAudiences!.includes(String(a)))) {
        return refuse("error validating token: invalid audience (aud) claim");
      }
    }
    for (const [claim, want] of Object.entries(found.boundClaims)) {
      const have = payload[claim];
      const wanted = Array.isArray(want) ? want : [want];
      if (typeof have !== "string" || !wanted.includes(have)) {
        return refuse(
          `error validating claims: claim "${claim}" does not match any associated bound claim values`,
        );
      }
    }
    return issue(found.policies, namespace, "jwt");
  };

  const approleLogin = async (request: Request, namespace: string): Promise<Response> => {
    const body = await readJson(request);
    const roleId = body?.role_id;
    const secretId = body?.secret_id;
    if (typeof roleId !== "string" || roleId === "") return refuse("missing role_id");
    const found = Object.values(data.approle!.roles).find((role) =>
      role.roleId === roleId && (role.namespace ?? "") === namespace
    );
    if (!found) return refuse("invalid role or secret ID");
    if (typeof secretId !== "string" || secretId === "") return refuse("missing secret_id");
    if (!found.secretIds.includes(secretId)) return refuse("invalid role or secret ID");
    return issue(found.policies, namespace, "approle");
  };

  const kubernetesLogin = async (request: Request, namespace: string): Promise<Response> => {
    const body = await readJson(request);
    const role = body?.role;
    const jwt = body?.jwt;
    if (typeof role !== "string" || role === "") return refuse("missing role");
    if (typeof jwt !== "string" || jwt === "") return refuse("missing jwt");
    const config = data.kubernetes!;
    const found = config.roles[role];
    if (!found) return refuse(`invalid role name "${role}"`);
    const denied = (message: string) => {
      counters.failedLogins++;
      return errors(403, [message]);
    };
    let payload: Record<string, unknown>;
    try {
      // What TokenReview checks: the cluster's signature and the token's lifetime.
      payload = (await jwtVerify(jwt, config.key)).payload as Record<string, unknown>;
    } catch {
      return denied("permission denied");
    }
    const k8s = payload["kubernetes.io"] as
      | { namespace?: string; serviceaccount?: { name?: string } }
      | undefined;
    if (!found.serviceAccounts.includes(k8s?.serviceaccount?.name ?? "")) {
      return denied("service account name not authorized");
    }
    if (!found.namespaces.includes(k8s?.namespace ?? "")) {
      return denied("namespace not authorized");
    }
    return issue(found.policies, namespace, "kubernetes");
  };

  const userpassLogin = async (
    request: Request,
    user: string,
    namespace: string,
  ): Promise<Response> => {
    const body = await readJson(request);
    const found = data.users?.[user];
    if (
      !found || (found.namespace ?? "") !== namespace || typeof body?.password !== "string" ||
      body.password !== found.password
    ) {
      return refuse("invalid username or password");
    }
    return issue(found.policies, namespace, "userpass");
  };

  /** The token for a request, if valid in this namespace (its own or a child). */
  const tokenFor = (request: Request, namespace: string): FakeToken | undefined => {
    const value = request.headers.get("X-Vault-Token");
    if (!value) return undefined;
    const token = tokens.get(value);
    if (!token) return undefined;
    const home = token.namespace ?? "";
    if (home !== "" && namespace !== home && !namespace.startsWith(`${home}/`)) return undefined;
    return token;
  };

  const kv = (
    method: "read" | "list",
    mounts: Record<string, FakeMount>,
    path: string,
    token: FakeToken,
    versionParam: string | null = null,
  ): Response => {
    const aclPath = method === "list" && !path.endsWith("/") ? `${path}/` : path;
    if (!allowed(token, method, aclPath)) {
      counters.denied++;
      return errors(403, PERMISSION_DENIED);
    }
    const [mountName, mount] = matchMount(mounts, path)!;
    const below = path.slice(mountName.length + 1);
    const rest = below.split("/");
    let folder: string | undefined;
    let secretPath: string | undefined;
    if (mount.version === 2) {
      const [kind, ...inner] = rest;
      const innerPath = inner.join("/");
      if (method === "list" && kind === "metadata") folder = innerPath;
      else if (method === "read" && kind === "data") secretPath = innerPath;
      else {
        return json(
          404,
          envelope({
            errors: [],
            warnings: [
              "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.",
            ],
          }),
        );
      }
    } else if (method === "list") folder = below;
    else secretPath = below;

    if (folder !== undefined) {
      const prefix = folder.replace(/\/+$/, "");
      const hostile = options.listKeys?.(mountName, prefix);
      if (hostile !== undefined) {
        counters.lists++;
        return json(200, envelope({ data: { keys: hostile } }));
      }
      const start = prefix === "" ? "" : `${prefix}/`;
      const keys = new Set<string>();
      const names = sortedNames(mount.secrets);
      // The names below the folder sit together in sorted order: binary search to the first.
      let lo = 0;
      let hi = names.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (names[mid] < start) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < names.length && names[i].startsWith(start); i++) {
        const name = names[i];
        const remainder = name.slice(start.length);
        const slash = remainder.indexOf("/");
        keys.add(slash < 0 ? remainder : remainder.slice(0, slash + 1));
      }
      if (keys.size === 0) return errors(404, []);
      counters.lists++;
      return json(200, envelope({ data: { keys: [...keys].sort() } }));
    }
    if (options.hugeReadBytes !== undefined) return hugeRead(options.hugeReadBytes);
    const secret = mount.secrets[secretPath!.replace(/\/+$/, "")];
    if (!secret) return errors(404, []);
    if (mount.version === 1) {
      counters.reads++;
      return json(200, envelope({ lease_duration: 2764800, data: secret.data }));
    }
    const history = secret.history ?? [];
    const latest = history.length > 0 ? history.length + 1 : secret.version ?? 1;
    // `?version=0` (or none) is the latest; a version never written is a bare 404.
    const asked = versionParam === null || versionParam === "" ? 0 : Number(versionParam);
    if (!Number.isInteger(asked) || asked < 0) {
      return errors(400, ["version must be a non-negative integer"]);
    }
    const number = asked === 0 ? latest : asked;
    const chosen: FakeKvVersion | undefined = number === latest
      ? secret
      : history.length > 0
      ? history[number - 1]
      : undefined;
    if (!chosen) return errors(404, []);
    const metadata = {
      created_time: "2026-01-02T03:04:05.123456789Z",
      custom_metadata: null,
      deletion_time: chosen.deleted ? "2026-02-03T04:05:06Z" : "",
      destroyed: chosen.destroyed ?? false,
      version: number,
    };
    if (chosen.deleted || chosen.destroyed) {
      return json(404, envelope({ data: { data: null, metadata } }));
    }
    counters.reads++;
    return json(200, envelope({ data: { data: chosen.data, metadata } }));
  };

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const namespace = (request.headers.get("X-Vault-Namespace") ?? "").replace(/^\/+|\/+$/g, "");
    counters.namespaces.add(namespace);
    if (options.requireRequestHeader && request.headers.get("X-Vault-Request") !== "true") {
      return errors(412, ["missing 'X-Vault-Request' header"]);
    }
    if (options.sealed) return errors(503, ["Vault is sealed"]);
    if (options.sealedFirst !== undefined && sealedAnswers < options.sealedFirst) {
      sealedAnswers++;
      return errors(503, ["Vault is sealed"]);
    }
    if (!url.pathname.startsWith("/v1/")) return errors(404, []);
    const path = decodeURIComponent(url.pathname.slice(4));
    const isList = request.method === "LIST" ||
      (request.method === "GET" && url.searchParams.get("list") === "true");
    const jwtMount = data.jwt?.mount ?? "jwt";

    if (request.method === "POST" && data.jwt && path === `auth/${jwtMount}/login`) {
      return await jwtLogin(request, namespace);
    }
    if (
      request.method === "POST" && data.approle &&
      path === `auth/${data.approle.mount ?? "approle"}/login`
    ) {
      return await approleLogin(request, namespace);
    }
    if (
      request.method === "POST" && data.kubernetes &&
      path === `auth/${data.kubernetes.mount ?? "kubernetes"}/login`
    ) {
      return await kubernetesLogin(request, namespace);
    }
    if (request.method === "POST" && data.users && path.startsWith("auth/userpass/login/")) {
      return await userpassLogin(request, path.slice("auth/userpass/login/".length), namespace);
    }
    if (path.startsWith("auth/")) {
      if (request.method === "POST" && path === "auth/token/revoke-self") {
        const value = request.headers.get("X-Vault-Token") ?? "";
        if (!tokenFor(request, namespace)) {
          counters.denied++;
          return errors(403, PERMISSION_DENIED);
        }
        tokens.delete(value);
        counters.revoked.push(value);
        return new Response(null, { status: 204 });
      }
      return errors(404, [`no handler for route "${path}". route entry not found.`]);
    }

    if (options.kvLatencyMs) await delay(options.kvLatencyMs, request.signal);
    const token = tokenFor(request, namespace);
    if (!token) {
      counters.denied++;
      return errors(403, PERMISSION_DENIED);
    }
    const mounts = data.namespaces[namespace] ?? {};
    if (path.startsWith("sys/internal/ui/mounts/") && request.method === "GET") {
      // As Vault: the path gets a trailing slash, the longest mount containing it answers,
      // and 403 both when there is none (so mounts cannot be probed) and when the token's
      // policies grant nothing below it.
      let asked = path.slice("sys/internal/ui/mounts/".length).replace(/^\/+/, "");
      if (!asked.endsWith("/")) asked += "/";
      const found = matchMount(mounts, asked);
      if (!found || !anyGrantUnder(token, found[0])) {
        counters.denied++;
        return errors(403, [
          `preflight capability check returned 403, please ensure client's policies grant access to path "${asked}"`,
        ]);
      }
      const [mountName, mount] = found;
      return json(
        200,
        envelope({
          data: {
            type: mount.type ?? "kv",
            path: `${mountName}/`,
            description: "",
            accessor: `kv_${mountName.replaceAll("/", "_")}`,
            local: false,
            seal_wrap: false,
            external_entropy_access: false,
            options: mount.nullOptions ? null : { version: String(mount.version) },
            config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
          },
        }),
      );
    }
    if (!matchMount(mounts, path)) {
      return errors(404, [`no handler for route "${path}". route entry not found.`]);
    }
    if (options.redirect) {
      return new Response(null, {
        status: options.redirect.status,
        headers: { Location: options.redirect.location },
      });
    }
    if (options.throttleFirst !== undefined && kvRequests++ < options.throttleFirst) {
      counters.throttled++;
      return json(429, { errors: [`request path "${path}": rate limit quota exceeded`] }, {
        "Retry-After": "0",
        "X-Ratelimit-Limit": "10",
        "X-Ratelimit-Remaining": "0",
      });
    }
    if (options.failFirst !== undefined && kvFailures++ < options.failFirst) {
      counters.failed++;
      return errors(500, ["internal error"]);
    }
    if (isList) return kv("list", mounts, path, token);
    if (request.method === "GET") {
      return kv("read", mounts, path, token, url.searchParams.get("version"));
    }
    return errors(405, ["unsupported operation"]);
  };

  return { handler, counters, options };
}
