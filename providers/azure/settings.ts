/**
 * The Azure Key Vault backend's configuration: its parameters, the vault URL, which
 * authentication path this run takes, and the hosts and files that path needs. Used by
 * the main thread (validation, sandbox plan) and by the Worker (the fetch) alike.
 *
 * @module
 */

import {
  hostPort,
  parseBool,
  parseHttpUrl,
  parseWholeNumber,
  quoteUrl,
  resolveProjectPath,
} from "../../lib/kit/params.ts";
import { ToolError } from "../../lib/kit/errors.ts";
import { AZURE_AUDIENCE, ciTokenPlan, OIDC_PARAMS, type TokenPlan } from "../../lib/kit/oidc.ts";
import type { ParamDoc } from "../../lib/contract/provider.ts";
import type { ProviderSettings, VaultCredentialReader } from "../../lib/contract/provider.ts";

/** The Key Vault data-plane REST API version this backend speaks (stable since 2025). */
export const KEY_VAULT_API_VERSION = "7.6";
/** The IMDS API version for managed identity tokens on VMs and AKS. */
export const IMDS_API_VERSION = "2018-02-01";
/** The App Service / Functions / Container Apps identity API version. */
export const APP_SERVICE_API_VERSION = "2019-08-01";
/** The default Microsoft Entra authority host. */
export const DEFAULT_AUTHORITY = "https://login.microsoftonline.com";
/** The default IMDS endpoint. */
export const DEFAULT_IMDS = "http://169.254.169.254";
/** The default number of secrets fetched at once. */
export const DEFAULT_CONCURRENCY = 32;
/** The default vault location of the client secret. */
export const DEFAULT_SECRET_LOCATION = "AZURE.DEFAULT.CLIENT_SECRET";

/** The Azure Key Vault backend's parameters. */
export const azureParams: readonly ParamDoc[] = [
  {
    name: "SECRETS_AZURE_KEY_VAULT_URL",
    meaning:
      "`AZURE_KEY_VAULT`: the vault, e.g. `https://NAME.vault.azure.net` (sovereign clouds too); required.",
  },
  {
    name: "SECRETS_AZURE_USE_MANAGED_IDENTITY",
    default: "1",
    meaning:
      "`AZURE_KEY_VAULT`: `1` uses the managed identity (IMDS, or App Service's `IDENTITY_ENDPOINT`); `0` a service principal (certificate, federated token or client secret).",
  },
  {
    name: "SECRETS_AZURE_TENANT_ID",
    meaning:
      "`AZURE_KEY_VAULT`: the Microsoft Entra tenant of the service principal (else `AZURE_TENANT_ID`).",
  },
  {
    name: "SECRETS_AZURE_CLIENT_ID",
    meaning:
      "`AZURE_KEY_VAULT`: the service principal's application id, or a user-assigned managed identity's client id (else `AZURE_CLIENT_ID`).",
  },
  {
    name: "SECRETS_AZURE_CLIENT_SECRET_LOCATION",
    default: DEFAULT_SECRET_LOCATION,
    meaning: "`AZURE_KEY_VAULT`: the vault key holding the service principal's client secret.",
  },
  {
    name: "SECRETS_AZURE_CLIENT_CERTIFICATE_PATH",
    meaning:
      "`AZURE_KEY_VAULT`: a PEM file with the service principal's certificate and its unencrypted RSA private key; used instead of the client secret.",
  },
  {
    name: "SECRETS_AZURE_CONCURRENCY",
    default: String(DEFAULT_CONCURRENCY),
    meaning:
      "`AZURE_KEY_VAULT`: how many secret values are read at once (1-100), besides the one listing request in flight.",
  },
  {
    name: "AZURE_TENANT_ID",
    meaning:
      "`AZURE_KEY_VAULT`: tenant id when `SECRETS_AZURE_TENANT_ID` is unset (set by AKS workload identity).",
  },
  {
    name: "AZURE_CLIENT_ID",
    meaning:
      "`AZURE_KEY_VAULT`: client id when `SECRETS_AZURE_CLIENT_ID` is unset (set by AKS workload identity).",
  },
  {
    name: "AZURE_FEDERATED_TOKEN_FILE",
    meaning:
      "`AZURE_KEY_VAULT`: with managed identity off and no certificate, a file holding an OIDC token exchanged for an Entra token (before `SECRETS_OIDC_TOKEN`).",
  },
  {
    name: "AZURE_AUTHORITY_HOST",
    default: DEFAULT_AUTHORITY,
    meaning:
      "`AZURE_KEY_VAULT`: the Microsoft Entra authority (e.g. `https://login.microsoftonline.us`).",
  },
  {
    name: "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    default: DEFAULT_IMDS,
    meaning: "`AZURE_KEY_VAULT`: the managed identity endpoint (IMDS) to ask for tokens.",
  },
  {
    name: "IDENTITY_ENDPOINT",
    meaning:
      "`AZURE_KEY_VAULT`: App Service, Functions and Container Apps managed identity endpoint (set by the platform).",
  },
  {
    name: "IDENTITY_HEADER",
    meaning: "`AZURE_KEY_VAULT`: the secret header for `IDENTITY_ENDPOINT` (set by the platform).",
  },
  ...OIDC_PARAMS,
];

/** How this run gets its Entra token. */
export type AuthPlan =
  | { kind: "imds"; endpoint: string; clientId?: string }
  | { kind: "app_service"; endpoint: string; header: string; clientId?: string }
  | {
    kind: "client_secret";
    tokenUrl: string;
    tenant: string;
    clientId: string;
    secretPath: string;
    /** The client secret read from the vault at `secretPath`. */
    secret: string;
  }
  | { kind: "certificate"; tokenUrl: string; tenant: string; clientId: string; path: string }
  | { kind: "federated"; tokenUrl: string; tenant: string; clientId: string; token: TokenPlan };

/** Everything the backend derives from its parameters: plain data (URLs as text). */
export interface AzurePlan {
  /** The vault's origin, e.g. `https://NAME.vault.azure.net`. */
  vault: string;
  /** The token resource, e.g. `https://vault.azure.net` (the scope adds `/.default`). */
  resource: string;
  /** The authentication path. */
  auth: AuthPlan;
  /** Secrets fetched at once. */
  concurrency: number;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Whether a URL points at this machine (plain http is allowed only there). */
export function isLoopback(url: URL): boolean {
  return LOOPBACK.test(url.hostname);
}

export { hostPort };

function parseUrl(name: string, text: string, httpAnywhere: boolean): URL {
  const url = parseHttpUrl(name, text);
  if (url.protocol === "http:" && !httpAnywhere && !isLoopback(url)) {
    throw new ToolError(
      "config",
      `${name}=${
        quoteUrl(text)
      } uses plain http, which is allowed only for loopback addresses; use https://`,
    );
  }
  if (url.username || url.password) {
    throw new ToolError("config", `${name} must not carry a user name or password`);
  }
  return url;
}

/** Parse and check `SECRETS_AZURE_KEY_VAULT_URL`. */
export function vaultUrl(env: Readonly<Record<string, string>>): URL {
  const text = env.SECRETS_AZURE_KEY_VAULT_URL?.trim();
  if (!text) {
    throw new ToolError(
      "config",
      "SECRETS_MANAGER=AZURE_KEY_VAULT needs SECRETS_AZURE_KEY_VAULT_URL, e.g. https://NAME.vault.azure.net",
    );
  }
  const url = parseUrl("SECRETS_AZURE_KEY_VAULT_URL", text, false);
  if (url.search || url.hash || url.pathname.replace(/\/+$/, "") !== "") {
    throw new ToolError(
      "config",
      `SECRETS_AZURE_KEY_VAULT_URL=${
        quoteUrl(text)
      } must be the vault's base URL only, e.g. https://NAME.vault.azure.net`,
    );
  }
  return new URL(url.origin);
}

/**
 * The token resource for a vault host: `https://vault.azure.net` for `NAME.vault.azure.net`,
 * `https://vault.azure.cn`, `https://vault.usgovcloudapi.net` and so on for sovereign
 * clouds; the public cloud's for any other host (loopback tests, custom DNS).
 */
export function vaultResource(vault: URL): string {
  const match = /^[^.]+\.(vault\..+)$/i.exec(vault.hostname);
  return match ? `https://${match[1].toLowerCase()}` : "https://vault.azure.net";
}

function concurrency(env: Readonly<Record<string, string>>): number {
  return parseWholeNumber(
    "SECRETS_AZURE_CONCURRENCY",
    env.SECRETS_AZURE_CONCURRENCY,
    DEFAULT_CONCURRENCY,
    1,
    100,
  );
}

const ID = /^[0-9A-Za-z][0-9A-Za-z._-]*$/;

function requireId(value: string | undefined, names: string, what: string): string {
  const id = value?.trim();
  if (!id) {
    throw new ToolError(
      "config",
      `SECRETS_AZURE_USE_MANAGED_IDENTITY=0 needs ${names}, the ${what} of the service principal`,
    );
  }
  if (!ID.test(id)) throw new ToolError("config", `${names.split(" ")[0]} is not a valid ${what}`);
  return id;
}

/**
 * Work out the whole plan from the settings, reading a service principal's client secret
 * from the vault through `vault`; throws a `config` {@linkcode ToolError} on anything wrong.
 */
export async function azurePlan(
  settings: ProviderSettings,
  vault: VaultCredentialReader,
): Promise<AzurePlan> {
  const env = settings.env;
  const vaultOrigin = vaultUrl(env);
  const resource = vaultResource(vaultOrigin);
  const managed = parseBool(
    "SECRETS_AZURE_USE_MANAGED_IDENTITY",
    env.SECRETS_AZURE_USE_MANAGED_IDENTITY,
    true,
  );
  const clientIdText = env.SECRETS_AZURE_CLIENT_ID?.trim() || env.AZURE_CLIENT_ID?.trim() ||
    undefined;
  let auth: AuthPlan;
  if (managed) {
    if (clientIdText !== undefined && !ID.test(clientIdText)) {
      throw new ToolError("config", "SECRETS_AZURE_CLIENT_ID is not a valid client id");
    }
    const endpoint = env.IDENTITY_ENDPOINT?.trim();
    const header = env.IDENTITY_HEADER?.trim();
    if (endpoint || header) {
      if (!endpoint || !header) {
        throw new ToolError(
          "config",
          `${endpoint ? "IDENTITY_ENDPOINT" : "IDENTITY_HEADER"} is set without ${
            endpoint ? "IDENTITY_HEADER" : "IDENTITY_ENDPOINT"
          }; App Service managed identity needs both (Azure Arc is not supported)`,
        );
      }
      auth = {
        kind: "app_service",
        endpoint: parseUrl("IDENTITY_ENDPOINT", endpoint, true).href,
        header,
        clientId: clientIdText,
      };
    } else {
      const base = parseUrl(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        env.AZURE_POD_IDENTITY_AUTHORITY_HOST?.trim() || DEFAULT_IMDS,
        true,
      );
      auth = {
        kind: "imds",
        endpoint: new URL(
          `${base.origin}${base.pathname.replace(/\/+$/, "")}/metadata/identity/oauth2/token`,
        ).href,
        clientId: clientIdText,
      };
    }
  } else {
    const tenant = requireId(
      env.SECRETS_AZURE_TENANT_ID || env.AZURE_TENANT_ID,
      "SECRETS_AZURE_TENANT_ID (or AZURE_TENANT_ID)",
      "tenant id",
    );
    const clientId = requireId(
      clientIdText,
      "SECRETS_AZURE_CLIENT_ID (or AZURE_CLIENT_ID)",
      "client id",
    );
    const authority = parseUrl(
      "AZURE_AUTHORITY_HOST",
      env.AZURE_AUTHORITY_HOST?.trim() || DEFAULT_AUTHORITY,
      false,
    );
    const tokenUrl = new URL(
      `${authority.origin}${authority.pathname.replace(/\/+$/, "")}/${tenant}/oauth2/v2.0/token`,
    ).href;
    const certificate = env.SECRETS_AZURE_CLIENT_CERTIFICATE_PATH?.trim();
    const file = env.AZURE_FEDERATED_TOKEN_FILE?.trim();
    // Precedence: a token file (AKS workload identity), then the CI system's token.
    const federated: TokenPlan | undefined = file
      ? {
        kind: "file",
        path: resolveProjectPath(settings, file),
        source: "AZURE_FEDERATED_TOKEN_FILE",
      }
      : ciTokenPlan(settings, AZURE_AUDIENCE, "Azure federated credentials");
    if (certificate) {
      auth = {
        kind: "certificate",
        tokenUrl,
        tenant,
        clientId,
        path: resolveProjectPath(settings, certificate),
      };
    } else if (federated) {
      auth = { kind: "federated", tokenUrl, tenant, clientId, token: federated };
    } else {
      const secretPath = env.SECRETS_AZURE_CLIENT_SECRET_LOCATION?.trim() ||
        DEFAULT_SECRET_LOCATION;
      const secret = (await vault([secretPath]))[secretPath];
      if (!secret) {
        throw new ToolError(
          "config",
          `SECRETS_AZURE_USE_MANAGED_IDENTITY=0 with no certificate or federated token needs the client secret in the vault at ${secretPath} (SECRETS_AZURE_CLIENT_SECRET_LOCATION), and it is not there`,
        );
      }
      auth = { kind: "client_secret", tokenUrl, tenant, clientId, secretPath, secret };
    }
  }
  return { vault: vaultOrigin.origin, resource, auth, concurrency: concurrency(env) };
}

/** A short description of the authentication path, for progress lines. */
export function describeAuth(auth: AuthPlan): string {
  switch (auth.kind) {
    case "imds":
      return `managed identity via IMDS${auth.clientId ? ` (client id ${auth.clientId})` : ""}`;
    case "app_service":
      return `managed identity via IDENTITY_ENDPOINT${
        auth.clientId ? ` (client id ${auth.clientId})` : ""
      }`;
    case "client_secret":
      return `service principal ${auth.clientId} with the client secret from ${auth.secretPath}`;
    case "certificate":
      return `service principal ${auth.clientId} with the certificate ${auth.path}`;
    case "federated":
      return `service principal ${auth.clientId} with the federated token from ${auth.token.source}${
        auth.token.kind === "file" ? ` ${auth.token.path}` : ""
      }`;
  }
}
