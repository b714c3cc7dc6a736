/**
 * A fake Azure Key Vault (data plane) for tests and benchmarks, following the REST
 * reference: `GET /secrets?api-version=...[&maxresults=N]` paged with `nextLink`
 * (25 per page by default, at most 25), `GET /secrets/{name}[/{version}]?api-version=...`.
 * Every secret keeps its versions, each a 32-hex id; without `{version}` (or with an empty
 * one) the current version is read, an unknown version is 404 `SecretNotFound`.
 * Requests need a bearer token issued by the identity fake (else 401 with the
 * `WWW-Authenticate` challenge); the principal needs list/get (else 403 `Forbidden`);
 * disabled secrets answer 403 `SecretDisabled`, missing ones 404 `SecretNotFound`; the
 * vault throttles with 429 and `Retry-After` when asked to.
 *
 * @module
 */

import type { FakeHandler } from "./server.ts";
import type { IssuedClaims } from "./azure_identity.ts";

/** One seeded secret. */
export interface KvSecret {
  /** Its name (letters, digits, dashes). */
  name: string;
  /** Its current value. */
  value: string;
  /** `attributes.enabled` (default true). */
  enabled?: boolean;
  /** `attributes.exp`, epoch seconds. */
  exp?: number;
  /** `contentType`. */
  contentType?: string;
  /** Older values, oldest first; each is a version of its own. */
  history?: string[];
}

/** Who may do what: a principal's (client id's) permissions. */
export interface KvAccess {
  /** May list secrets. */
  list: boolean;
  /** May read secret values. */
  get: boolean;
}

/** The vault's contents and access rules. */
export interface KvData {
  /** The tenant the vault trusts (for the challenge). */
  tenant: string;
  /** The secrets. */
  secrets: KvSecret[];
  /** Permissions by client id; principals not listed are denied everything. */
  access: Record<string, KvAccess>;
  /** `rbac` (default) or `policy`: only changes the 403 wording. */
  model?: "rbac" | "policy";
}

/** Options. */
export interface KvOptions {
  /** Checks a bearer token; returns its claims when the identity fake issued it. */
  verify: (token: string) => Promise<IssuedClaims | undefined>;
  /** Default page size (25, the service's). */
  pageSize?: number;
  /** Throttle: at most `requests` per `windowMs`, then 429 with `Retry-After: retryAfterSeconds`. */
  throttle?: { requests: number; windowMs: number; retryAfterSeconds: number };
  /** After this many authenticated requests, every token issued so far stops being accepted. */
  revokeAfterRequests?: number;
  /** The api-versions accepted. */
  apiVersions?: string[];
  /** The vault name used in messages (default `fakevault`). */
  vaultName?: string;
  /** A broken service: every list page's `nextLink` points at the second page again. */
  repeatNextLink?: boolean;
  /** Answer every authenticated request with a 307 to this location. */
  redirect?: string;
}

/** Counters. */
export interface KvCounters {
  /** `GET /secrets` pages served. */
  listPages: number;
  /** Values served. */
  gets: number;
  /** 401 answers. */
  unauthorized: number;
  /** 403 answers. */
  forbidden: number;
  /** 429 answers. */
  throttled: number;
  /** 400 answers. */
  badRequests: number;
  /** Requests repeating a throttled request before its `Retry-After` had passed. */
  earlyRetries: number;
  /** Distinct tokens used successfully. */
  tokens: Set<string>;
}

/** A Key Vault fake. */
export interface KvFake {
  /** The handler for `startFake`. */
  handler: FakeHandler;
  /** Counters. */
  counters: KvCounters;
  /** A secret's version ids, oldest first (the last is the current one). */
  versions(name: string): string[];
}

/** The api-versions the fake accepts by default (current stable ones). */
export const KV_API_VERSIONS: readonly string[] = ["7.4", "7.5", "7.6", "2025-07-01"];

function kvError(
  status: number,
  code: string,
  message: string,
  inner?: string,
  headers?: HeadersInit,
): Response {
  const error: Record<string, unknown> = { code, message };
  if (inner) error.innererror = { code: inner };
  return Response.json({ error }, { status, headers });
}

/** Create the fake over a data set (read once, when the fake is created). */
export function azureKeyVaultFake(data: KvData, options: KvOptions): KvFake {
  const pageSize = options.pageSize ?? 25;
  const apiVersions = options.apiVersions ?? [...KV_API_VERSIONS];
  const vaultName = options.vaultName ?? "fakevault";
  const counters: KvCounters = {
    listPages: 0,
    gets: 0,
    unauthorized: 0,
    forbidden: 0,
    throttled: 0,
    badRequests: 0,
    earlyRetries: 0,
    tokens: new Set(),
  };
  const created = Math.floor(Date.now() / 1000) - 86400;
  // The data set is indexed once, so benchmarks with 10,000 secrets stay cheap per request.
  const sorted = [...data.secrets].sort((a, b) => a.name.localeCompare(b.name));
  const byName = new Map(data.secrets.map((s) => [s.name.toLowerCase(), s]));
  const newId = () => crypto.randomUUID().replaceAll("-", "");
  const history = new Map(
    data.secrets.map((s) => [
      s.name.toLowerCase(),
      [...(s.history ?? []), s.value].map((value) => ({ id: newId(), value })),
    ]),
  );
  const versions = new Map(
    [...history].map(([name, list]) => [name, list.at(-1)!.id]),
  );
  const revoked = new Set<string>();
  let authenticated = 0;
  let windowStart = 0;
  let windowCount = 0;
  const throttledUntil = new Map<string, number>();

  const challenge = {
    "WWW-Authenticate":
      `Bearer authorization="https://login.microsoftonline.com/${data.tenant}", resource="https://vault.azure.net"`,
  };
  const unauthorized = (message: string) => {
    counters.unauthorized++;
    return kvError(401, "Unauthorized", message, undefined, challenge);
  };
  const forbidden = (principal: string, permission: "list" | "get") => {
    counters.forbidden++;
    if (data.model === "policy") {
      return kvError(
        403,
        "Forbidden",
        `The user, group or application 'appid=${principal};iss=https://sts.windows.net/${data.tenant}/' does not have secrets ${permission} permission on key vault '${vaultName};location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
        "AccessDenied",
      );
    }
    const action = permission === "list" ? "readMetadata" : "getSecret";
    return kvError(
      403,
      "Forbidden",
      `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${principal}\r\nAction: 'Microsoft.KeyVault/vaults/secrets/${action}/action'\r\nResource: '${vaultName}'\r\nAssignment: (not found)\r\nVault: ${vaultName};location=westeurope\r\n`,
      "ForbiddenByRbac",
    );
  };
  const bad = (message: string) => {
    counters.badRequests++;
    return kvError(400, "BadParameter", message);
  };

  const attributes = (s: KvSecret) => ({
    enabled: s.enabled ?? true,
    ...(s.exp !== undefined ? { exp: s.exp } : {}),
    created,
    updated: created,
    recoveryLevel: "Recoverable+Purgeable",
    recoverableDays: 90,
  });

  const handler: FakeHandler = async (request) => {
    const url = new URL(request.url);
    const origin = url.origin;
    if (request.method !== "GET") {
      return kvError(
        405,
        "MethodNotAllowed",
        `The requested resource does not support http method '${request.method}'.`,
      );
    }
    const apiVersion = url.searchParams.get("api-version");
    if (apiVersion === null) {
      return bad(
        "The request URI contains an invalid or missing api-version parameter. The api-version query parameter is required.",
      );
    }
    if (!apiVersions.includes(apiVersion)) {
      return bad(
        `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (7.6).`,
      );
    }
    const auth = request.headers.get("authorization");
    if (auth === null || !/^Bearer /i.test(auth)) {
      return unauthorized("AKV10000: Request is missing a Bearer or PoP token.");
    }
    const token = auth.slice(7).trim();
    const claims = revoked.has(token) ? undefined : await options.verify(token);
    if (!claims) {
      return unauthorized(
        "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/" + data.tenant +
          "/, found an unknown or expired token.",
      );
    }
    if (claims.tid !== data.tenant) {
      return unauthorized(
        `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${data.tenant}/.`,
      );
    }
    if (claims.aud !== "https://vault.azure.net") {
      return unauthorized("AKV10022: Invalid audience.");
    }
    authenticated++;
    if (
      options.revokeAfterRequests !== undefined && authenticated === options.revokeAfterRequests
    ) {
      revoked.add(token);
      for (const t of counters.tokens) revoked.add(t);
    }
    if (options.throttle) {
      const now = Date.now();
      const key = `${url.pathname}${url.search}`;
      // Small tolerance for timer granularity.
      if ((throttledUntil.get(key) ?? 0) - now > 20) counters.earlyRetries++;
      if (now - windowStart >= options.throttle.windowMs) {
        windowStart = now;
        windowCount = 0;
      }
      windowCount++;
      if (windowCount > options.throttle.requests) {
        counters.throttled++;
        throttledUntil.set(key, now + options.throttle.retryAfterSeconds * 1000);
        return kvError(
          429,
          "Throttled",
          "Request was not processed because too many requests were received. Reason: A generic reason",
          undefined,
          { "Retry-After": String(options.throttle.retryAfterSeconds) },
        );
      }
    }
    counters.tokens.add(token);
    if (options.redirect) {
      return new Response(null, { status: 307, headers: { Location: options.redirect } });
    }
    const access = data.access[claims.appid] ?? { list: false, get: false };

    if (url.pathname === "/secrets" || url.pathname === "/secrets/") {
      if (!access.list) return forbidden(claims.appid, "list");
      const maxText = url.searchParams.get("maxresults");
      const max = maxText === null ? pageSize : Number(maxText);
      if (!Number.isInteger(max) || max < 1 || max > 25) {
        return bad(
          "The value of parameter 'maxresults' is out of range. It must be between 1 and 25.",
        );
      }
      const skip = url.searchParams.get("$skiptoken");
      let offset = 0;
      if (skip !== null) {
        try {
          offset = JSON.parse(atob(skip)).offset;
        } catch {
          return bad("The $skiptoken is invalid.");
        }
      }
      counters.listPages++;
      const page = sorted.slice(offset, offset + max);
      const nextOffset = options.repeatNextLink ? max : offset + max;
      const next = offset + max < sorted.length || (options.repeatNextLink && offset > 0)
        ? `${origin}/secrets?api-version=${apiVersion}&$skiptoken=${
          btoa(JSON.stringify({ offset: nextOffset }))
        }&maxresults=${max}`
        : null;
      return Response.json({
        value: page.map((s) => ({
          id: `${origin}/secrets/${s.name}`,
          attributes: attributes(s),
          ...(s.contentType ? { contentType: s.contentType } : {}),
        })),
        nextLink: next,
      });
    }

    const match = /^\/secrets\/([^/]+)(?:\/([^/]*))?$/.exec(url.pathname);
    if (!match) return kvError(404, "NotFound", "The requested resource was not found.");
    const name = decodeURIComponent(match[1]);
    if (!access.get) return forbidden(claims.appid, "get");
    const secret = byName.get(name.toLowerCase());
    const current = versions.get(name.toLowerCase());
    const version = match[2] ? match[2] : current;
    const stored = history.get(name.toLowerCase())?.find((v) => v.id === version);
    if (!secret || !stored) {
      return kvError(
        404,
        "SecretNotFound",
        `A secret with (name/id) ${name}${
          match[2] ? `/${match[2]}` : ""
        } was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    }
    if (secret.enabled === false) {
      counters.forbidden++;
      return kvError(
        403,
        "Forbidden",
        "Operation get is not allowed on a disabled secret.",
        "SecretDisabled",
      );
    }
    counters.gets++;
    return Response.json({
      value: stored.value,
      id: `${origin}/secrets/${secret.name}/${stored.id}`,
      attributes: attributes(secret),
      ...(secret.contentType ? { contentType: secret.contentType } : {}),
    });
  };
  return {
    handler,
    counters,
    versions: (name) => (history.get(name.toLowerCase()) ?? []).map((v) => v.id),
  };
}
