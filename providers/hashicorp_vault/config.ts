/**
 * HashiCorp Vault configuration: the parameters, and their resolution into one plain
 * {@linkcode VaultConfig} that the main thread (validation, sandbox) and the Worker (fetch)
 * both derive from the same settings.
 *
 * @module
 */

import { hostPort, parseHttpUrl, parseWholeNumber } from "../../lib/kit/params.ts";
import { ToolError } from "../../lib/kit/errors.ts";
import { ciTokenPlan, OIDC_PARAMS, tokenNet, type TokenPlan } from "../../lib/kit/oidc.ts";
import type { ParamDoc } from "../../lib/contract/provider.ts";
import type { ProviderSettings, SecretPick } from "../../lib/contract/provider.ts";
import { parseSelector as parseOptions } from "../../lib/kit/selector.ts";

/** Where Kubernetes mounts a pod's service-account token. */
export const KUBERNETES_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** The HashiCorp Vault backend's parameters. */
export const hashicorpVaultParams: readonly ParamDoc[] = [
  {
    name: "SECRETS_HASHICORP_VAULT_URL",
    meaning:
      "`HASHICORP_VAULT`: the Vault address, e.g. `https://vault.example.com:8200` (required; `VAULT_ADDR` as fallback).",
  },
  { name: "VAULT_ADDR", meaning: "`HASHICORP_VAULT`: fallback for `SECRETS_HASHICORP_VAULT_URL`." },
  {
    name: "SECRETS_HASHICORP_VAULT_NAMESPACE",
    meaning:
      "`HASHICORP_VAULT`: namespace (Vault Enterprise, HCP Vault), sent as `X-Vault-Namespace` on every request.",
  },
  {
    name: "VAULT_NAMESPACE",
    meaning: "`HASHICORP_VAULT`: fallback for `SECRETS_HASHICORP_VAULT_NAMESPACE`.",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_KV_VERSION",
    default: "2",
    meaning: "`HASHICORP_VAULT`: KV secrets engine version of the selected mounts, `1` or `2`.",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_AUTH_METHOD",
    meaning:
      "`HASHICORP_VAULT`: `jwt`, `kubernetes`, `approle`, `token` or `userpass`; unset: the first configured, in that order.",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_JWT_ROLE",
    meaning:
      "`HASHICORP_VAULT`: when set, log in with JWT auth as this role (first of the auth methods).",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_JWT_MOUNT",
    default: "jwt",
    meaning: "`HASHICORP_VAULT`: path of the JWT auth method (`auth/MOUNT/login`).",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_JWT",
    meaning:
      "`HASHICORP_VAULT`: the JWT for JWT auth; takes precedence over `CI_JOB_JWT` and `VAULT_ID_TOKEN`.",
  },
  {
    name: "CI_JOB_JWT",
    meaning: "`HASHICORP_VAULT`: the CI job's JWT, used for JWT auth when set.",
  },
  {
    name: "VAULT_ID_TOKEN",
    meaning:
      "`HASHICORP_VAULT`: an ID token (e.g. GitLab `id_tokens`) used for JWT auth when the others are unset.",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_KUBERNETES_ROLE",
    meaning:
      "`HASHICORP_VAULT`: when set, log in with Kubernetes auth as this role, with the pod's service-account token.",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_KUBERNETES_TOKEN_FILE",
    default: KUBERNETES_TOKEN_FILE,
    meaning: "`HASHICORP_VAULT`: the service-account token file for Kubernetes auth.",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_KUBERNETES_MOUNT",
    default: "kubernetes",
    meaning: "`HASHICORP_VAULT`: path of the Kubernetes auth method (`auth/MOUNT/login`).",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_ROLE_ID",
    meaning: "`HASHICORP_VAULT`: AppRole role id (with `SECRETS_HASHICORP_VAULT_SECRET_ID`).",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_SECRET_ID",
    meaning: "`HASHICORP_VAULT`: AppRole secret id.",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_APPROLE_MOUNT",
    default: "approle",
    meaning: "`HASHICORP_VAULT`: path of the AppRole auth method (`auth/MOUNT/login`).",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_TOKEN",
    meaning:
      "`HASHICORP_VAULT`: a Vault token (second auth method; never revoked by the tool). `VAULT_TOKEN` as fallback.",
  },
  {
    name: "VAULT_TOKEN",
    meaning: "`HASHICORP_VAULT`: fallback for `SECRETS_HASHICORP_VAULT_TOKEN`.",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_USERNAME",
    meaning: "`HASHICORP_VAULT`: userpass user name (third auth method, with the password).",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_PASSWORD",
    meaning: "`HASHICORP_VAULT`: userpass password.",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_CACERT",
    meaning:
      "`HASHICORP_VAULT`: PEM file of a private CA trusted in addition to the default roots (`VAULT_CACERT` as fallback).",
  },
  {
    name: "VAULT_CACERT",
    meaning: "`HASHICORP_VAULT`: fallback for `SECRETS_HASHICORP_VAULT_CACERT`.",
  },
  {
    name: "SECRETS_HASHICORP_VAULT_CONCURRENCY",
    default: "32",
    meaning: "`HASHICORP_VAULT`: most requests (lists and reads) in flight at once.",
  },
  ...OIDC_PARAMS,
];

/** The auth methods, in the order they are tried when none is named. */
export const AUTH_METHODS = ["jwt", "kubernetes", "approle", "token", "userpass"] as const;

/** How this run authenticates. */
export type VaultAuth =
  | { method: "jwt"; role: string; mount: string; token: TokenPlan; source: string }
  | { method: "kubernetes"; role: string; mount: string; tokenFile: string }
  | { method: "approle"; roleId: string; secretId: string; mount: string }
  | { method: "token"; token: string; source: string }
  | { method: "userpass"; username: string; password: string };

/** One `MOUNT/PATH` selector. */
export interface VaultSelector {
  /** The selector as written. */
  text: string;
  /** The mount (first segment). */
  mount: string;
  /** The path below the mount, without leading or trailing slashes ("" for the whole mount). */
  path: string;
  /** Whether it was written with a trailing slash or names a whole mount (folder only). */
  folderOnly: boolean;
  /** `;version=N`: read this KV version 2 version of the one secret at `path`. */
  version?: number;
  /** `;field=` and `;key=`, applied to every secret the selector reads. */
  pick?: SecretPick;
}

/** The resolved Vault configuration of one run. */
export interface VaultConfig {
  /** Base URL without a trailing slash, e.g. `https://vault:8200`. */
  url: string;
  /** `host:port` for the sandbox. */
  hostPort: string;
  /** The namespace, or undefined. */
  namespace?: string;
  /** KV version of the selected mounts. */
  kvVersion: 1 | 2;
  /** The selectors (default: the whole `secret` mount). */
  selectors: VaultSelector[];
  /** Authentication. */
  auth: VaultAuth;
  /** Absolute path of the CA PEM file, or undefined. */
  caCert?: string;
  /** Most requests in flight. */
  concurrency: number;
}

function pick(env: Readonly<Record<string, string>>, ...names: string[]): [string, string] | [] {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return [name, value];
  }
  return [];
}

/**
 * Check a mount or namespace path: no whitespace or control characters, no `.`/`..` or
 * empty segments, none of `?#%\\` (they would change the request's URL or header).
 */
function checkVaultPath(name: string, value: string): string {
  // deno-lint-ignore no-control-regex -- control characters are exactly what is refused
  const bad = /[\s\x00-\x1f\x7f?#%\\]/.test(value) ||
    (value !== "" && value.split("/").some((s) => s === "" || s === "." || s === ".."));
  if (bad) {
    throw new ToolError(
      "config",
      `${name}=${
        JSON.stringify(value.slice(0, 100))
      } is not a valid Vault path: use names separated by single slashes, without spaces, "." or ".." segments`,
    );
  }
  return value;
}

/**
 * Parse one `MOUNT/PATH` selector with its options (`docs/selectors.md`). A version pins
 * one secret: it needs KV version 2, a whole number from 1, and no trailing slash.
 */
export function parseSelector(text: string, kvVersion: 1 | 2 = 2): VaultSelector {
  const options = parseOptions(text);
  const selector = parsePath(text, options.name);
  if (options.field !== undefined || options.key !== undefined) {
    selector.pick = { field: options.field, key: options.key };
  }
  if (options.version === undefined) return selector;
  if (kvVersion === 1) {
    throw new ToolError(
      "config",
      `SECRETS_SELECTION entry ${
        JSON.stringify(text)
      } pins ;version=${options.version}, but KV version 1 keeps no versions; remove ;version= or use a KV version 2 mount`,
    );
  }
  if (!/^[1-9][0-9]{0,15}$/.test(options.version)) {
    throw new ToolError(
      "config",
      `SECRETS_SELECTION entry ${
        JSON.stringify(text)
      } has ;version=${options.version}; a KV version 2 version is a whole number from 1`,
    );
  }
  if (selector.folderOnly) {
    throw new ToolError(
      "config",
      `SECRETS_SELECTION entry ${
        JSON.stringify(text)
      } pins a version of a folder or mount; name one secret, MOUNT/PATH without a trailing slash`,
    );
  }
  selector.version = Number(options.version);
  return selector;
}

function parsePath(text: string, name: string): VaultSelector {
  const trimmed = name.trim().replace(/^\/+/, "");
  const parts = trimmed.split("/");
  const mount = parts[0];
  if (!mount) {
    throw new ToolError(
      "config",
      `SECRETS_SELECTION entry ${JSON.stringify(text)} has no mount; write MOUNT or MOUNT/PATH`,
    );
  }
  const path = parts.slice(1).join("/").replace(/\/+$/, "");
  if (path !== "" && path.split("/").some((segment) => segment === "")) {
    throw new ToolError(
      "config",
      `SECRETS_SELECTION entry ${JSON.stringify(text)} has an empty path segment (//)`,
    );
  }
  return { text, mount, path, folderOnly: path === "" || trimmed.endsWith("/") };
}

function mountOf(env: Readonly<Record<string, string>>, name: string, fallback: string): string {
  return checkVaultPath(name, (env[name]?.trim() || fallback).replace(/^\/+|\/+$/g, ""));
}

/**
 * A login method's role: undefined when its variable is unset, an error when the method was
 * named with `SECRETS_HASHICORP_VAULT_AUTH_METHOD` and the role is missing.
 */
function roleOf(
  env: Readonly<Record<string, string>>,
  method: string,
  variable: string,
  what: string,
  named: boolean,
): string | undefined {
  const role = env[variable]?.trim();
  if (role || !named) return role || undefined;
  throw new ToolError(
    "config",
    `SECRETS_HASHICORP_VAULT_AUTH_METHOD=${method} needs ${variable}, the ${what} auth role`,
  );
}

/** Each method's configuration, or undefined when its variables are not set. */
const AUTH_PARSERS: Record<
  VaultAuth["method"],
  (settings: ProviderSettings, named: boolean) => VaultAuth | undefined
> = {
  jwt(settings, named) {
    const env = settings.env;
    const role = roleOf(env, "jwt", "SECRETS_HASHICORP_VAULT_JWT_ROLE", "JWT", named);
    if (!role) return undefined;
    const [name, jwt] = pick(env, "SECRETS_HASHICORP_VAULT_JWT", "CI_JOB_JWT", "VAULT_ID_TOKEN");
    const token: TokenPlan | undefined = name && jwt
      ? { kind: "env", token: jwt, source: name }
      : ciTokenPlan(settings, undefined, "HashiCorp Vault JWT login");
    if (!token) {
      throw new ToolError(
        "config",
        "SECRETS_HASHICORP_VAULT_JWT_ROLE is set but no JWT is: set SECRETS_HASHICORP_VAULT_JWT, CI_JOB_JWT, VAULT_ID_TOKEN or SECRETS_OIDC_TOKEN (for example from the CI system's id_tokens), or on GitHub Actions give the job `permissions: id-token: write` and set SECRETS_OIDC_AUDIENCE",
      );
    }
    const mount = mountOf(env, "SECRETS_HASHICORP_VAULT_JWT_MOUNT", "jwt");
    return { method: "jwt", role, mount, token, source: token.source };
  },
  kubernetes(settings, named) {
    const env = settings.env;
    const role = roleOf(
      env,
      "kubernetes",
      "SECRETS_HASHICORP_VAULT_KUBERNETES_ROLE",
      "Kubernetes",
      named,
    );
    if (!role) return undefined;
    const file = env.SECRETS_HASHICORP_VAULT_KUBERNETES_TOKEN_FILE?.trim() ||
      KUBERNETES_TOKEN_FILE;
    return {
      method: "kubernetes",
      role,
      mount: mountOf(env, "SECRETS_HASHICORP_VAULT_KUBERNETES_MOUNT", "kubernetes"),
      tokenFile: absolute(file, settings.cwd),
    };
  },
  approle(settings, named) {
    const env = settings.env;
    const roleId = env.SECRETS_HASHICORP_VAULT_ROLE_ID?.trim();
    const secretId = env.SECRETS_HASHICORP_VAULT_SECRET_ID?.trim();
    if (roleId && secretId) {
      return {
        method: "approle",
        roleId,
        secretId,
        mount: mountOf(env, "SECRETS_HASHICORP_VAULT_APPROLE_MOUNT", "approle"),
      };
    }
    if (roleId || secretId || named) {
      throw new ToolError(
        "config",
        "AppRole auth needs both SECRETS_HASHICORP_VAULT_ROLE_ID and SECRETS_HASHICORP_VAULT_SECRET_ID",
      );
    }
    return undefined;
  },
  token(settings, named) {
    const [source, token] = pick(settings.env, "SECRETS_HASHICORP_VAULT_TOKEN", "VAULT_TOKEN");
    if (source && token) return { method: "token", token, source };
    if (named) {
      throw new ToolError(
        "config",
        "SECRETS_HASHICORP_VAULT_AUTH_METHOD=token needs SECRETS_HASHICORP_VAULT_TOKEN (or VAULT_TOKEN)",
      );
    }
    return undefined;
  },
  userpass(settings, named) {
    const username = settings.env.SECRETS_HASHICORP_VAULT_USERNAME?.trim();
    const password = settings.env.SECRETS_HASHICORP_VAULT_PASSWORD;
    if (username && password) return { method: "userpass", username, password };
    if (username || password || named) {
      throw new ToolError(
        "config",
        "userpass auth needs both SECRETS_HASHICORP_VAULT_USERNAME and SECRETS_HASHICORP_VAULT_PASSWORD",
      );
    }
    return undefined;
  },
};

function parseAuth(settings: ProviderSettings): VaultAuth {
  const named = settings.env.SECRETS_HASHICORP_VAULT_AUTH_METHOD?.trim().toLowerCase();
  if (named) {
    const method = AUTH_METHODS.find((m) => m === named);
    if (!method) {
      throw new ToolError(
        "config",
        `SECRETS_HASHICORP_VAULT_AUTH_METHOD=${
          JSON.stringify(named.slice(0, 50))
        } is not an auth method; use one of ${AUTH_METHODS.join(", ")}`,
      );
    }
    return AUTH_PARSERS[method](settings, true)!;
  }
  for (const method of AUTH_METHODS) {
    const auth = AUTH_PARSERS[method](settings, false);
    if (auth) return auth;
  }
  throw new ToolError(
    "config",
    "SECRETS_MANAGER=HASHICORP_VAULT needs credentials: SECRETS_HASHICORP_VAULT_JWT_ROLE with a JWT, SECRETS_HASHICORP_VAULT_KUBERNETES_ROLE, SECRETS_HASHICORP_VAULT_ROLE_ID with SECRETS_HASHICORP_VAULT_SECRET_ID, SECRETS_HASHICORP_VAULT_TOKEN (or VAULT_TOKEN), or SECRETS_HASHICORP_VAULT_USERNAME and SECRETS_HASHICORP_VAULT_PASSWORD",
  );
}

/** The hosts and files of the auth method, beyond the Vault server itself. */
export function authSandbox(auth: VaultAuth): { net: string[]; read: string[] } {
  if (auth.method === "jwt") return { net: tokenNet(auth.token), read: [] };
  if (auth.method === "kubernetes") return { net: [], read: [auth.tokenFile] };
  return { net: [], read: [] };
}

function parseUrl(env: Readonly<Record<string, string>>): { url: string; hostPort: string } {
  const [name, text] = pick(env, "SECRETS_HASHICORP_VAULT_URL", "VAULT_ADDR");
  if (!name || !text) {
    throw new ToolError(
      "config",
      "SECRETS_MANAGER=HASHICORP_VAULT needs SECRETS_HASHICORP_VAULT_URL (or VAULT_ADDR), e.g. https://vault.example.com:8200",
    );
  }
  const url = parseHttpUrl(name, text);
  if (url.search || url.hash || url.username || url.password) {
    throw new ToolError("config", `${name} must not carry a query, fragment or user info`);
  }
  return {
    url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`,
    hostPort: hostPort(url),
  };
}

function absolute(path: string, cwd: string): string {
  return path.startsWith("/") ? path : `${cwd.replace(/\/+$/, "")}/${path.replace(/^\.\//, "")}`;
}

/** Resolve and validate the Vault configuration. Throws `ToolError` (config). */
export function vaultConfig(settings: ProviderSettings): VaultConfig {
  const { env } = settings;
  const { url, hostPort } = parseUrl(env);
  const versionText = env.SECRETS_HASHICORP_VAULT_KV_VERSION?.trim() || "2";
  if (versionText !== "1" && versionText !== "2") {
    throw new ToolError(
      "config",
      `SECRETS_HASHICORP_VAULT_KV_VERSION=${JSON.stringify(versionText)} must be 1 or 2`,
    );
  }
  const concurrency = parseWholeNumber(
    "SECRETS_HASHICORP_VAULT_CONCURRENCY",
    env.SECRETS_HASHICORP_VAULT_CONCURRENCY,
    32,
    1,
    256,
  );
  const kvVersion = versionText === "1" ? 1 : 2;
  const selectors = (settings.selection.length > 0 ? settings.selection : ["secret"])
    .map((text) => parseSelector(text, kvVersion));
  const [namespaceSource, namespaceText] = pick(
    env,
    "SECRETS_HASHICORP_VAULT_NAMESPACE",
    "VAULT_NAMESPACE",
  );
  const namespace = namespaceSource && namespaceText
    ? checkVaultPath(namespaceSource, namespaceText.replace(/^\/+|\/+$/g, ""))
    : undefined;
  const [, caCert] = pick(env, "SECRETS_HASHICORP_VAULT_CACERT", "VAULT_CACERT");
  return {
    url,
    hostPort,
    namespace: namespace?.replace(/^\/+|\/+$/g, "") || undefined,
    kvVersion,
    selectors,
    auth: parseAuth(settings),
    caCert: caCert ? absolute(caCert, settings.cwd) : undefined,
    concurrency,
  };
}
