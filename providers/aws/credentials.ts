/**
 * The AWS credential chain, run inside the sandbox: static keys (vault or environment),
 * web identity through STS `AssumeRoleWithWebIdentity` (a token file, `SECRETS_OIDC_TOKEN` or
 * GitHub Actions' endpoint), the ECS/EKS container endpoint, and the EC2 instance role over
 * IMDSv2; then, with `SECRETS_AWS_ROLE_ARN`, a role assumed from those with STS `AssumeRole`. Temporary credentials are cached and refreshed
 * before they expire, one refresh at a time.
 *
 * @module
 */

import { detail, fileErrorCause, isKind, ToolError } from "../../lib/kit/errors.ts";
import {
  classifyNetworkError,
  isNetworkError,
  networkCause,
  RetryableError,
  retryAfterMs,
  withRetry,
} from "../../lib/kit/retry.ts";
import { hostPort } from "../../lib/kit/params.ts";
import { obtainToken, tokenContext } from "../../lib/kit/oidc.ts";
import { readJson, readText, refuseRedirect } from "../../lib/kit/response.ts";
import type { FetchContext } from "../../lib/contract/provider.ts";
import { type ChainedRole, type CredentialSource, noCredentialsHint } from "./config.ts";
import { signAwsRequest } from "./signer.ts";

/** A set of AWS credentials. */
export interface AwsCredentials {
  /** The access key id. */
  accessKeyId: string;
  /** The secret access key. */
  secretAccessKey: string;
  /** The session token of temporary credentials. */
  sessionToken?: string;
  /** When temporary credentials expire, in epoch milliseconds. */
  expiresAt?: number;
}

/** Hands out valid credentials, refreshing temporary ones before they expire. */
export interface CredentialProvider {
  /** Valid credentials for a request starting now. */
  get(): Promise<AwsCredentials>;
  /** Drop cached temporary credentials (after the service said they expired). */
  invalidate(): void;
  /** Whether the credentials can be refreshed (temporary ones from a role). */
  readonly refreshable: boolean;
  /** Where they come from, for messages. */
  readonly description: string;
}

/** How long before expiry credentials are refreshed, at most (5 minutes, like the SDKs). */
export const REFRESH_WINDOW_MS = 5 * 60_000;
/** How long the IMDSv2 token request may take before the hop-limit hint is given. */
export const IMDS_TOKEN_TIMEOUT_MS = 1000;

/** Whether credentials are due for refresh: within the window, or a quarter of their life. */
export function needsRefresh(creds: AwsCredentials, obtainedAt: number, now = Date.now()): boolean {
  if (creds.expiresAt === undefined) return false;
  const window = Math.min(REFRESH_WINDOW_MS, (creds.expiresAt - obtainedAt) / 4);
  return now >= creds.expiresAt - window;
}

const DESCRIPTIONS: Record<CredentialSource["kind"], string> = {
  vault: "keys from the vault",
  env: "AWS_ACCESS_KEY_ID from the environment",
  "web-identity": "web identity (AWS_ROLE_ARN)",
  container: "the container credentials endpoint",
  imds: "the EC2 instance role (IMDSv2)",
};

/**
 * Build the provider for a source, and for the role chained from it when `chain` is given
 * (`SECRETS_AWS_ROLE_ARN`). Registers every credential with `ctx.sensitive`.
 */
export function credentialProvider(
  source: CredentialSource,
  ctx: FetchContext,
  chain?: ChainedRole,
): CredentialProvider {
  const base = baseProvider(source, ctx);
  if (!chain) return base;
  return refreshing(
    () => assumeRole(chain, base, ctx),
    `role ${chain.roleArn} assumed with ${base.description}`,
    ctx,
  );
}

function baseProvider(source: CredentialSource, ctx: FetchContext): CredentialProvider {
  const description = DESCRIPTIONS[source.kind];
  if (source.kind === "vault" || source.kind === "env") {
    const creds: AwsCredentials = {
      accessKeyId: source.accessKeyId,
      secretAccessKey: source.secretAccessKey,
      sessionToken: source.kind === "env" ? source.sessionToken : undefined,
    };
    register(ctx, creds);
    return {
      get: () => Promise.resolve(creds),
      invalidate: () => {},
      refreshable: false,
      description,
    };
  }
  const load = source.kind === "web-identity"
    ? () => webIdentity(source, ctx)
    : source.kind === "container"
    ? () => container(source, ctx)
    : () => imds(source, ctx);
  return refreshing(load, description, ctx);
}

/** Temporary credentials from `load`, cached and refreshed before expiry, one load at a time. */
function refreshing(
  load: () => Promise<AwsCredentials>,
  description: string,
  ctx: FetchContext,
): CredentialProvider {
  let cached: { creds: AwsCredentials; obtainedAt: number } | undefined;
  let pending: Promise<AwsCredentials> | undefined;
  return {
    get() {
      if (cached && !needsRefresh(cached.creds, cached.obtainedAt)) {
        return Promise.resolve(cached.creds);
      }
      pending ??= (async () => {
        try {
          const obtainedAt = Date.now();
          const creds = await load();
          register(ctx, creds);
          if (cached) ctx.log.debug(`AWS: refreshed temporary credentials from ${description}`);
          cached = { creds, obtainedAt };
          return creds;
        } finally {
          pending = undefined;
        }
      })();
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
    refreshable: true,
    description,
  };
}

function register(ctx: FetchContext, creds: AwsCredentials): void {
  ctx.sensitive(creds.accessKeyId);
  ctx.sensitive(creds.secretAccessKey);
  if (creds.sessionToken) ctx.sensitive(creds.sessionToken);
}

function retryOptions(ctx: FetchContext, operation: string) {
  return {
    operation,
    deadline: ctx.settings.deadline,
    timeoutMs: ctx.settings.requestTimeoutMs,
    signal: ctx.signal,
    onRetry: (cause: string, attempt: number) =>
      ctx.log.debug(`${operation}: retry ${attempt} after ${cause}`),
  };
}

async function readTokenFile(path: string, what: string): Promise<string> {
  try {
    const token = (await Deno.readTextFile(path)).trim();
    if (token === "") throw new ToolError("config", `${what} ${path} is empty`);
    return token;
  } catch (error) {
    if (isKind(error, "config")) throw error;
    throw new ToolError("config", `${what} ${path} cannot be read: ${fileErrorCause(error)}`);
  }
}

function parseExpiry(text: string | undefined, what: string): number {
  const time = text === undefined ? NaN : Date.parse(text);
  if (Number.isNaN(time)) {
    throw new ToolError("backend", `${what} returned credentials without a valid Expiration`);
  }
  return time;
}

function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  if (!match) return undefined;
  return match[1].replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'").replaceAll("&amp;", "&");
}

const STS_RETRYABLE = new Set(["IDPCommunicationError", "Throttling", "ThrottlingException"]);

async function webIdentity(
  source: Extract<CredentialSource, { kind: "web-identity" }>,
  ctx: FetchContext,
): Promise<AwsCredentials> {
  const operation = "AWS STS AssumeRoleWithWebIdentity";
  const token = await obtainToken(source.token, tokenContext(ctx));
  const body = new URLSearchParams({
    Action: "AssumeRoleWithWebIdentity",
    Version: "2011-06-15",
    RoleArn: source.roleArn,
    RoleSessionName: source.sessionName,
    WebIdentityToken: token,
  });
  const xml = await withRetry(async (signal) => {
    const answer = await stsAnswer(`${source.sts}/`, {
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body,
      signal,
    }, operation);
    if ("text" in answer) return answer.text;
    const { code, message } = answer;
    throw new ToolError(
      "auth",
      `${operation} for ${source.roleArn} was refused: ${code}${
        message ? `: ${detail(message)}` : ""
      }; check the role's trust policy and the token from ${source.token.source}`,
    );
  }, { ...retryOptions(ctx, operation), target: hostPort(source.sts) });
  return stsCredentials(xml, operation, operation);
}

/** A refused STS request: its error code and message (never a credential). */
interface StsRefusal {
  code: string;
  message: string;
  status: number;
}

/**
 * POST one STS request: the answer's XML when it succeeded, else what refused it. Server
 * errors and throttling throw a {@linkcode RetryableError}; redirects are refused.
 */
async function stsAnswer(
  url: string | URL,
  init: RequestInit,
  operation: string,
): Promise<{ text: string } | StsRefusal> {
  const response = await fetch(url, { ...init, method: "POST", redirect: "manual" });
  await refuseRedirect(response, operation);
  const text = await readText(response, operation);
  if (response.ok) return { text };
  const code = xmlText(text, "Code") ?? `HTTP ${response.status}`;
  const message = xmlText(text, "Message") ?? "";
  if (response.status >= 500 || STS_RETRYABLE.has(code)) {
    throw new RetryableError(`${code} (HTTP ${response.status})`, retryAfterMs(response));
  }
  return { code, message, status: response.status };
}

/** The temporary credentials of an STS answer (`AssumeRole`, `AssumeRoleWithWebIdentity`). */
function stsCredentials(xml: string, what: string, operation: string): AwsCredentials {
  const accessKeyId = xmlText(xml, "AccessKeyId");
  const secretAccessKey = xmlText(xml, "SecretAccessKey");
  const sessionToken = xmlText(xml, "SessionToken");
  if (!accessKeyId || !secretAccessKey || !sessionToken) {
    throw new ToolError("backend", `${what} answered without credentials`);
  }
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken,
    expiresAt: parseExpiry(xmlText(xml, "Expiration"), operation),
  };
}

async function assumeRole(
  role: ChainedRole,
  base: CredentialProvider,
  ctx: FetchContext,
): Promise<AwsCredentials> {
  const operation = "AWS STS AssumeRole";
  const what = `${operation} of ${role.roleArn} with ${base.description}`;
  const form: Record<string, string> = {
    Action: "AssumeRole",
    Version: "2011-06-15",
    RoleArn: role.roleArn,
    RoleSessionName: role.sessionName,
    DurationSeconds: String(role.durationSeconds),
  };
  if (role.externalId) form.ExternalId = role.externalId;
  const body = new URLSearchParams(form).toString();
  let refreshedBase = false;
  const xml = await withRetry(async (signal) => {
    const creds = await base.get();
    const signed = await signAwsRequest({
      url: `${role.sts}/`,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body,
      credentials: creds,
      service: "sts",
      region: role.region,
    });
    const answer = await stsAnswer(
      signed.url,
      { headers: signed.headers, body, signal },
      operation,
    );
    if ("text" in answer) return answer.text;
    const { code, message } = answer;
    // Base credentials that expired under us are fetched again, once.
    if (code === "ExpiredToken" && base.refreshable && !refreshedBase) {
      refreshedBase = true;
      base.invalidate();
      throw new RetryableError(`${code} (HTTP ${answer.status})`);
    }
    throw new ToolError(
      "auth",
      `${what} was refused: ${code}${
        message ? `: ${detail(message)}` : ""
      }; check that ${role.roleArn}'s trust policy lets these base credentials assume it${
        role.externalId ? " with this SECRETS_AWS_ROLE_EXTERNAL_ID" : ""
      }`,
    );
  }, { ...retryOptions(ctx, operation), target: hostPort(role.sts) });
  return stsCredentials(xml, what, operation);
}

interface JsonCredentials {
  AccessKeyId?: string;
  SecretAccessKey?: string;
  Token?: string;
  Expiration?: string;
  Code?: string;
  Message?: string;
}

function fromJson(json: JsonCredentials, what: string): AwsCredentials {
  if (json.Code !== undefined && json.Code !== "Success") {
    throw new ToolError("auth", `${what} returned ${json.Code}; check the attached role`);
  }
  if (!json.AccessKeyId || !json.SecretAccessKey) {
    throw new ToolError("backend", `${what} answered without credentials`);
  }
  return {
    accessKeyId: json.AccessKeyId,
    secretAccessKey: json.SecretAccessKey,
    sessionToken: json.Token,
    expiresAt: json.Expiration === undefined ? undefined : parseExpiry(json.Expiration, what),
  };
}

async function container(
  source: Extract<CredentialSource, { kind: "container" }>,
  ctx: FetchContext,
): Promise<AwsCredentials> {
  const operation = "AWS container credentials";
  const token = source.tokenFile
    ? await readTokenFile(source.tokenFile, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    : source.token;
  if (token) ctx.sensitive(token);
  const json = await withRetry(async (signal) => {
    const response = await fetch(source.url, {
      headers: token ? { authorization: token } : {},
      signal,
      redirect: "manual",
    });
    await refuseRedirect(response, operation);
    if (response.ok) return await readJson(response, operation) as JsonCredentials;
    await response.body?.cancel();
    if (response.status === 429 || response.status >= 500) {
      throw new RetryableError(`HTTP ${response.status}`, retryAfterMs(response));
    }
    throw new ToolError(
      "auth",
      `${operation}: the endpoint refused the request (HTTP ${response.status}); check AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`,
    );
  }, { ...retryOptions(ctx, operation), target: hostPort(source.url) });
  return fromJson(json, operation);
}

const IMDS_TOKEN_TTL = "21600";
/** Per-attempt timeout of the IMDSv1 GET that follows a token request that timed out. */
const IMDS_GET_AFTER_TIMEOUT_MS = 3000;
const HOP_LIMIT_HINT =
  "the IMDSv2 token request (PUT /latest/api/token) timed out: the instance's metadata hop limit is most likely 1 and a container needs 2; run `aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 2` on the instance";

async function imds(
  source: Extract<CredentialSource, { kind: "imds" }>,
  ctx: FetchContext,
): Promise<AwsCredentials> {
  const operation = "AWS EC2 instance metadata";
  const base = source.endpoint;
  let token: string | undefined;
  let tokenTimedOut = false;
  try {
    const response = await fetch(`${base}/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": IMDS_TOKEN_TTL },
      signal: AbortSignal.any([
        AbortSignal.timeout(Math.min(IMDS_TOKEN_TIMEOUT_MS, ctx.settings.requestTimeoutMs)),
        ctx.signal,
      ]),
      redirect: "manual",
    });
    await refuseRedirect(response, operation);
    if (response.ok) {
      token = (await readText(response, operation)).trim();
      ctx.sensitive(token);
    } else {
      await response.body?.cancel();
      // 403: IMDS disabled for tokens; 404/405: an IMDSv1-only endpoint. Try without a token.
      if (![403, 404, 405].includes(response.status)) {
        throw new ToolError(
          "backend",
          `${operation}: PUT /latest/api/token answered HTTP ${response.status}`,
        );
      }
      ctx.log.debug(`${operation}: no IMDSv2 token (HTTP ${response.status}), trying IMDSv1`);
    }
  } catch (error) {
    if (isKind(error, "backend")) throw error;
    if (ctx.signal.aborted) throw error;
    if (!isNetworkError(error)) throw error;
    // Only a token request that times out is the hop-limit symptom; refused, unresolvable
    // or reset means no metadata service answers here at all.
    if (classifyNetworkError(error) !== "timeout") {
      throw new ToolError(
        "auth",
        `${operation}: ${
          networkCause(error, { target: hostPort(base) })
        }: no instance metadata service here, and no other AWS credentials were found; ${
          noCredentialsHint(ctx.settings)
        }`,
      );
    }
    tokenTimedOut = true;
    ctx.log.debug(`${operation}: token request failed, trying without a token`);
  }
  const headers: Record<string, string> = token ? { "x-aws-ec2-metadata-token": token } : {};
  const get = (path: string) =>
    withRetry(async (signal) => {
      const response = await fetch(`${base}${path}`, { headers, signal, redirect: "manual" });
      await refuseRedirect(response, operation);
      if (response.ok) return await readText(response, operation);
      await response.body?.cancel();
      if (response.status === 401 && tokenTimedOut) {
        throw new ToolError("backend", `${operation}: ${HOP_LIMIT_HINT}`);
      }
      if (response.status === 429 || response.status >= 500) {
        throw new RetryableError(`HTTP ${response.status}`, retryAfterMs(response));
      }
      if (response.status === 404) {
        throw new ToolError(
          "auth",
          `${operation}: no instance role is attached to this instance (GET ${path} answered 404); attach an instance profile, or ${
            noCredentialsHint(ctx.settings)
          }`,
        );
      }
      throw new ToolError("auth", `${operation}: GET ${path} answered HTTP ${response.status}`);
    }, {
      ...retryOptions(ctx, operation),
      target: hostPort(base),
      attempts: tokenTimedOut ? 1 : 4,
      // A metadata service that dropped the token answer still answers a GET at once.
      timeoutMs: tokenTimedOut
        ? Math.min(IMDS_GET_AFTER_TIMEOUT_MS, ctx.settings.requestTimeoutMs)
        : ctx.settings.requestTimeoutMs,
    }).catch((error) => {
      // The hop limit drops only the token answer (a 401 above says so). When the GET
      // gets no answer either, nothing is there: not an EC2 instance, or metadata is off.
      if (tokenTimedOut && isKind(error, "backend") && /last cause: /.test(error.message)) {
        throw new ToolError(
          "auth",
          `${operation}: no answer from ${
            hostPort(base)
          } to the token request or a GET: no instance metadata service here, and no other AWS credentials were found; ${
            noCredentialsHint(ctx.settings)
          }`,
        );
      }
      throw error;
    });
  const roles = await get("/latest/meta-data/iam/security-credentials/");
  const role = roles.split("\n").map((line) => line.trim()).find((line) => line !== "");
  if (!role) {
    throw new ToolError(
      "auth",
      `${operation}: no instance role is attached to this instance; ${
        noCredentialsHint(ctx.settings)
      }`,
    );
  }
  const text = await get(`/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`);
  let json: JsonCredentials;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ToolError("backend", `${operation}: the credentials of role ${role} are not JSON`);
  }
  return fromJson(json, `${operation} (role ${role})`);
}
