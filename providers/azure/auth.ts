/**
 * Microsoft Entra tokens for Key Vault, by every supported path: managed identity through
 * IMDS or App Service's `IDENTITY_ENDPOINT`, and a service principal through the v2.0 token
 * endpoint with a client secret, a client certificate assertion or a federated token (from
 * `AZURE_FEDERATED_TOKEN_FILE`, `SECRETS_OIDC_TOKEN` or GitHub Actions' token endpoint).
 *
 * A {@linkcode TokenCache} asks once per load and hands the same token to every request;
 * after a 401 from Key Vault it asks for exactly one fresh token, shared by every request
 * that saw the stale one.
 *
 * @module
 */

import { detail, fileErrorCause, isKind, ToolError } from "../../lib/kit/errors.ts";
import { RetryableError, retryAfterMs, withRetry } from "../../lib/kit/retry.ts";
import { obtainToken, tokenContext } from "../../lib/kit/oidc.ts";
import { readText, refuseRedirect } from "../../lib/kit/response.ts";
import { hostPort } from "../../lib/kit/params.ts";
import type { FetchContext } from "../../lib/contract/provider.ts";
import { clientAssertion, JWT_BEARER, parseClientCertificate } from "./certificate.ts";
import {
  APP_SERVICE_API_VERSION,
  type AuthPlan,
  type AzurePlan,
  IMDS_API_VERSION,
} from "./settings.ts";

/** A token and when it stops being valid (epoch milliseconds). */
export interface AccessToken {
  /** The bearer token. */
  token: string;
  /** When it expires. */
  expiresAt: number;
}

/** Something that asks for a new token. */
export type TokenSource = (signal: AbortSignal) => Promise<AccessToken>;

/** Hands out the load's token; refreshes it once per stale token. */
export interface TokenCache {
  /** The current token (asked for on first use, or when it is about to expire). */
  get(): Promise<string>;
  /** After a 401 with `stale`: a fresh token (one request, however many callers ask). */
  refresh(stale: string): Promise<string>;
  /** How many tokens were requested. */
  readonly requests: number;
}

/** Create a {@linkcode TokenCache} over a source. */
export function createTokenCache(request: () => Promise<AccessToken>): TokenCache {
  type Entry = { promise: Promise<AccessToken>; value?: AccessToken };
  let latest: Entry | undefined;
  let requests = 0;
  const ask = (): Promise<AccessToken> => {
    requests++;
    const entry: Entry = { promise: request() };
    // Registered before any caller awaits, so `value` is set before they resume.
    entry.promise.then((value) => entry.value = value, () => {});
    latest = entry;
    return entry.promise;
  };
  return {
    get requests() {
      return requests;
    },
    async get() {
      const entry = latest;
      if (!entry) return (await ask()).token;
      const token = await entry.promise;
      if (token.expiresAt - Date.now() >= 60_000) return token.token;
      return (await (latest === entry ? ask() : latest!.promise)).token;
    },
    async refresh(stale) {
      const entry = latest;
      if (!entry) return (await ask()).token;
      if (entry.value === undefined || entry.value.token !== stale) {
        return (await entry.promise).token;
      }
      return (await ask()).token;
    },
  };
}

interface TokenBody {
  access_token?: unknown;
  expires_in?: unknown;
  expires_on?: unknown;
  error?: unknown;
  error_description?: unknown;
}

async function readJson(response: Response, operation: string): Promise<TokenBody> {
  await refuseRedirect(response, operation);
  let text: string;
  try {
    text = await readText(response, operation);
  } catch (error) {
    if (error instanceof ToolError) throw error;
    throw new RetryableError(`${operation}: the answer was cut off (${(error as Error).message})`);
  }
  try {
    const body = JSON.parse(text);
    return typeof body === "object" && body !== null ? body : {};
  } catch {
    if (response.ok) throw new RetryableError(`${operation}: the answer is not JSON`);
    return {};
  }
}

/** The safe part of an Entra error: the error code and the AADSTS line, without trace ids. */
function entraCause(body: TokenBody, status: number): string {
  const code = typeof body.error === "string" ? body.error : `HTTP ${status}`;
  const description = typeof body.error_description === "string"
    ? detail(body.error_description.split(/\r?\n|Trace ID:/)[0].trim())
    : "";
  return description ? `${code}: ${description}` : code;
}

function toToken(body: TokenBody, operation: string): AccessToken {
  if (typeof body.access_token !== "string" || body.access_token === "") {
    throw new ToolError("backend", `${operation}: the answer has no access_token`);
  }
  const now = Date.now();
  const expiresIn = Number(body.expires_in);
  const expiresOn = Number(body.expires_on);
  const expiresAt = Number.isFinite(expiresOn) && expiresOn > 0
    ? expiresOn * 1000
    : Number.isFinite(expiresIn) && expiresIn > 0
    ? now + expiresIn * 1000
    : now + 5 * 60_000;
  return { token: body.access_token, expiresAt };
}

/** Classify a token endpoint's failure: retry throttling and server errors, else stop. */
async function tokenResponse(
  response: Response,
  operation: string,
  denied: (cause: string) => string,
): Promise<AccessToken> {
  const body = await readJson(response, operation);
  if (response.ok) return toToken(body, operation);
  const cause = entraCause(body, response.status);
  if (response.status === 429 || response.status >= 500) {
    throw new RetryableError(
      `${operation}: ${cause.startsWith("HTTP ") ? cause : `HTTP ${response.status} ${cause}`}`,
      retryAfterMs(response),
    );
  }
  if (response.status === 400 || response.status === 401 || response.status === 403) {
    throw new ToolError("auth", denied(cause));
  }
  throw new ToolError("backend", `${operation}: unexpected HTTP ${response.status} (${cause})`);
}

async function readFile(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new ToolError(
      "config",
      `${what} ${path} cannot be read (${fileErrorCause(error)})`,
    );
  }
}

/** How the two managed identity endpoints differ. */
const MANAGED_IDENTITY = {
  imds: {
    via: "IMDS",
    apiVersion: IMDS_API_VERSION,
    // IMDS answers 404 and 410 while it starts up; Microsoft asks clients to retry them.
    retryStartup: true,
    check: "this VM or node has a managed identity",
    state: "assigned",
  },
  app_service: {
    via: "IDENTITY_ENDPOINT",
    apiVersion: APP_SERVICE_API_VERSION,
    retryStartup: false,
    check: "the app has a managed identity",
    state: "enabled",
  },
} as const;

/** A managed identity's token source: IMDS, or App Service's `IDENTITY_ENDPOINT`. */
function managedIdentitySource(
  auth: { kind: "imds" | "app_service"; endpoint: string; clientId?: string },
  resource: string,
  headers: Record<string, string>,
): TokenSource {
  const how = MANAGED_IDENTITY[auth.kind];
  const op = `managed identity token from ${how.via} ${new URL(auth.endpoint).host}`;
  return async (signal) => {
    const url = new URL(auth.endpoint);
    url.searchParams.set("api-version", how.apiVersion);
    url.searchParams.set("resource", resource);
    if (auth.clientId) url.searchParams.set("client_id", auth.clientId);
    const response = await fetch(url, { headers, signal, redirect: "manual" });
    if (how.retryStartup && (response.status === 404 || response.status === 410)) {
      await response.body?.cancel();
      throw new RetryableError(`${op}: HTTP ${response.status}`, retryAfterMs(response));
    }
    return await tokenResponse(
      response,
      op,
      (cause) =>
        `${op} was refused (${cause}); check that ${how.check}${
          auth.clientId ? ` with client id ${auth.clientId}` : ""
        } ${how.state}`,
    );
  };
}

/** The token source for a plan. Reads certificate and token files when first asked. */
export function tokenSource(plan: AzurePlan, ctx: FetchContext): TokenSource {
  const auth: AuthPlan = plan.auth;
  const { resource } = plan;
  switch (auth.kind) {
    case "imds":
      return managedIdentitySource(auth, resource, { Metadata: "true" });
    case "app_service":
      ctx.sensitive(auth.header);
      return managedIdentitySource(auth, resource, { "X-IDENTITY-HEADER": auth.header });
    case "client_secret":
    case "certificate":
    case "federated": {
      const op = `Microsoft Entra token for ${auth.clientId} from ${new URL(auth.tokenUrl).host}`;
      const denied = (cause: string) =>
        `${op} was refused (${cause}); check the tenant id, client id and the ${
          auth.kind === "client_secret"
            ? `client secret at ${auth.secretPath}`
            : auth.kind === "certificate"
            ? "certificate registered on the app"
            : "federated credential (issuer, subject, audience) on the app"
        }`;
      const form = async (): Promise<URLSearchParams> => {
        const body = new URLSearchParams({
          grant_type: "client_credentials",
          client_id: auth.clientId,
          scope: `${resource}/.default`,
        });
        if (auth.kind === "client_secret") {
          const { secret } = auth;
          ctx.sensitive(secret);
          body.set("client_secret", secret);
        } else if (auth.kind === "certificate") {
          const pem = await readFile(auth.path, "SECRETS_AZURE_CLIENT_CERTIFICATE_PATH");
          ctx.sensitive(pem); // the private key's lines, should any ever reach a message
          const cert = await parseClientCertificate(pem, auth.path);
          const assertion = await clientAssertion(cert, auth.clientId, auth.tokenUrl);
          ctx.sensitive(assertion);
          body.set("client_assertion_type", JWT_BEARER);
          body.set("client_assertion", assertion);
        } else {
          // Asked again on each refresh: a file is rotated by the platform, and GitHub's
          // tokens last minutes.
          const token = await obtainToken(auth.token, tokenContext(ctx));
          body.set("client_assertion_type", JWT_BEARER);
          body.set("client_assertion", token);
        }
        return body;
      };
      return async (signal) => {
        const body = await form();
        const response = await fetch(auth.tokenUrl, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body,
          signal,
          redirect: "manual",
        });
        return await tokenResponse(response, op, denied);
      };
    }
  }
}

/** A {@linkcode TokenCache} for this run: every token is registered for redaction. */
export function tokenCache(plan: AzurePlan, ctx: FetchContext): TokenCache {
  const source = tokenSource(plan, ctx);
  const imds = plan.auth.kind === "imds";
  return createTokenCache(async () => {
    let token: AccessToken;
    try {
      token = await withRetry(source, {
        operation: `Azure token (${describeKind(plan.auth)})`,
        deadline: ctx.settings.deadline,
        // IMDS is a link-local endpoint: when it does not answer quickly it is not there.
        timeoutMs: imds
          ? Math.min(ctx.settings.requestTimeoutMs, 10_000)
          : ctx.settings.requestTimeoutMs,
        attempts: imds ? 5 : undefined,
        signal: ctx.signal,
        onRetry: (cause, n, delay) =>
          ctx.log.debug(`token request retry ${n} in ${Math.round(delay)}ms: ${cause}`),
        target: hostPort(
          plan.auth.kind === "imds" || plan.auth.kind === "app_service"
            ? plan.auth.endpoint
            : plan.auth.tokenUrl,
        ),
      });
    } catch (error) {
      if (imds && isKind(error, "backend")) {
        throw new ToolError(
          "backend",
          `${error.message}. Off Azure VMs and AKS nodes there is no IMDS: set SECRETS_AZURE_USE_MANAGED_IDENTITY=0 and configure a service principal`,
        );
      }
      throw error;
    }
    ctx.sensitive(token.token);
    return token;
  });
}

function describeKind(auth: AuthPlan): string {
  switch (auth.kind) {
    case "imds":
      return "managed identity, IMDS";
    case "app_service":
      return "managed identity, IDENTITY_ENDPOINT";
    case "client_secret":
      return "client secret";
    case "certificate":
      return "client certificate";
    case "federated":
      return "federated token";
  }
}
