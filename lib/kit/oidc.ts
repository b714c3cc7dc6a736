/**
 * OIDC tokens from the CI system, shared by every backend that federates (AWS web identity,
 * Azure federated credentials, HashiCorp Vault JWT login): where this run's token comes
 * from (a token file, a variable holding the JWT, or GitHub Actions' token endpoint), the
 * host or file that adds to the sandbox, and getting the token inside it.
 *
 * Precedence, when several are present: the backend's own token file (or JWT variable),
 * then `SECRETS_OIDC_TOKEN`, then GitHub Actions' endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`
 * with `ACTIONS_ID_TOKEN_REQUEST_TOKEN`). A token is decoded locally (not verified: the
 * receiving service does that, and decoding needs no JOSE library at start-up) so an expired
 * one fails before any request. Tokens never appear in messages.
 *
 * @module
 */

import type { ParamDoc, ProviderSettings } from "../contract/provider.ts";
import { fileErrorCause, isKind, ToolError } from "./errors.ts";
import { checkJwt, decodeClaims } from "./jwt.ts";
import { hostPort, parseHttpUrl } from "./params.ts";
import { RetryableError, retryAfterMs, withRetry } from "./retry.ts";

/** The audience AWS STS expects in a web identity token from GitHub Actions. */
export const AWS_AUDIENCE = "sts.amazonaws.com";
/** The audience Microsoft Entra expects in a federated credential's token. */
export const AZURE_AUDIENCE = "api://AzureADTokenExchange";

/** The OIDC parameters every federating backend reads. */
export const OIDC_PARAMS: readonly ParamDoc[] = [
  {
    name: "SECRETS_OIDC_TOKEN",
    meaning:
      "A JWT from the CI system (GitLab `id_tokens:`) for AWS web identity, Azure federated credentials and HashiCorp Vault JWT login, when no token file is set.",
  },
  {
    name: "SECRETS_OIDC_AUDIENCE",
    meaning:
      "Audience asked of GitHub Actions' token endpoint: default `sts.amazonaws.com` (AWS), `api://AzureADTokenExchange` (Azure); required for HashiCorp Vault.",
  },
  {
    name: "ACTIONS_ID_TOKEN_REQUEST_URL",
    meaning:
      "GitHub Actions' OIDC token endpoint (set by the runner with `permissions: id-token: write`); used when no other token is configured.",
  },
  {
    name: "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    meaning: "GitHub Actions' bearer token for `ACTIONS_ID_TOKEN_REQUEST_URL` (set by the runner).",
  },
];

/** Where this run's OIDC token comes from: plain data, resolved in the main thread. */
export type TokenPlan =
  | { kind: "file"; path: string; source: string }
  | { kind: "env"; token: string; source: string }
  | { kind: "github"; url: string; requestToken: string; audience: string; source: string };

/**
 * The CI system's token from the environment: `SECRETS_OIDC_TOKEN`, else GitHub's endpoint
 * when both its variables are set, else undefined. `audience` is the backend's default for
 * GitHub (undefined: `SECRETS_OIDC_AUDIENCE` is required). An env token is checked at once.
 */
export function ciTokenPlan(
  settings: Pick<ProviderSettings, "env">,
  audience: string | undefined,
  needs: string,
): TokenPlan | undefined {
  const env = settings.env;
  const token = env.SECRETS_OIDC_TOKEN?.trim();
  if (token) {
    checkJwt(token, "SECRETS_OIDC_TOKEN");
    return { kind: "env", token, source: "SECRETS_OIDC_TOKEN" };
  }
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL?.trim();
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN?.trim();
  if (!url || !requestToken) return undefined;
  const parsed = parseHttpUrl("ACTIONS_ID_TOKEN_REQUEST_URL", url);
  if (
    parsed.protocol === "http:" && !/^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(parsed.hostname)
  ) {
    throw new ToolError(
      "config",
      "ACTIONS_ID_TOKEN_REQUEST_URL must be an https:// URL (plain http only to a loopback address)",
    );
  }
  const chosen = env.SECRETS_OIDC_AUDIENCE?.trim() || audience;
  if (!chosen) {
    throw new ToolError(
      "config",
      `${needs} with GitHub Actions' OIDC token needs SECRETS_OIDC_AUDIENCE, the audience the server expects (its bound_audiences)`,
    );
  }
  return {
    kind: "github",
    url,
    requestToken,
    audience: chosen,
    source: `GitHub Actions' OIDC token endpoint (audience ${chosen})`,
  };
}

/** The host (GitHub's endpoint) a token plan adds to the sandbox, if any. */
export function tokenNet(plan: TokenPlan): string[] {
  return plan.kind === "github" ? [hostPort(plan.url)] : [];
}

/** The file a token plan adds to the sandbox's read list, if any. */
export function tokenRead(plan: TokenPlan): string[] {
  return plan.kind === "file" ? [plan.path] : [];
}

/** What getting a token needs from the fetch context. */
export interface TokenContext {
  /** Registers the token (and GitHub's request token) for redaction. */
  sensitive(value: string): void;
  /** The per-request timeout, in milliseconds. */
  requestTimeoutMs: number;
  /** When the whole run must end, in epoch milliseconds. */
  deadline: number;
  /** Aborted at the deadline. */
  signal: AbortSignal;
  /** Debug lines for retries. */
  debug(message: string): void;
}

async function readToken(plan: Extract<TokenPlan, { kind: "file" }>): Promise<string> {
  try {
    const token = (await Deno.readTextFile(plan.path)).trim();
    if (token === "") throw new ToolError("config", `${plan.source} ${plan.path} is empty`);
    return token;
  } catch (error) {
    if (isKind(error, "config")) throw error;
    throw new ToolError(
      "config",
      `${plan.source} ${plan.path} cannot be read: ${fileErrorCause(error)}`,
    );
  }
}

/** The largest token answer accepted from GitHub's endpoint (tokens are a few KB). */
const MAX_ANSWER = 64 * 1024;

/** The answer's text, refused past {@linkcode MAX_ANSWER} bytes without reading the rest. */
async function boundedText(response: Response, operation: string): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_ANSWER) {
      await reader.cancel();
      throw new ToolError("backend", `${operation}: the answer is larger than ${MAX_ANSWER} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ToolError("backend", `${operation}: the answer is not UTF-8`);
  }
}

async function githubToken(
  plan: Extract<TokenPlan, { kind: "github" }>,
  ctx: TokenContext,
): Promise<string> {
  ctx.sensitive(plan.requestToken);
  // As actions/toolkit does: the audience is appended to the runner's URL, which already
  // carries a query.
  const url = `${plan.url}${plan.url.includes("?") ? "&" : "?"}audience=${
    encodeURIComponent(plan.audience)
  }`;
  const operation = "GitHub Actions OIDC token request";
  const text = await withRetry(async (signal) => {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${plan.requestToken}`, accept: "application/json" },
      signal,
    });
    if (response.ok) return await boundedText(response, operation);
    await response.body?.cancel();
    if (response.status === 429 || response.status >= 500) {
      throw new RetryableError(`HTTP ${response.status}`, retryAfterMs(response));
    }
    throw new ToolError(
      "auth",
      `${operation} to ${
        new URL(plan.url).host
      } was refused (HTTP ${response.status}); give the job \`permissions: id-token: write\` and run this in the job itself`,
    );
  }, {
    operation,
    deadline: ctx.deadline,
    timeoutMs: ctx.requestTimeoutMs,
    signal: ctx.signal,
    onRetry: (cause, attempt) => ctx.debug(`${operation}: retry ${attempt} after ${cause}`),
  });
  let value: unknown;
  try {
    value = (JSON.parse(text) as { value?: unknown })?.value;
  } catch {
    throw new ToolError("backend", `${operation}: the answer is not JSON`);
  }
  if (typeof value !== "string" || value === "") {
    throw new ToolError("backend", `${operation}: the answer has no "value" (the token)`);
  }
  return value;
}

/**
 * Get the token of a plan (inside the sandbox), register it for redaction, and check
 * locally that it is a JWT that has not expired, before it is sent anywhere.
 */
export async function obtainToken(plan: TokenPlan, ctx: TokenContext): Promise<string> {
  const token = plan.kind === "env"
    ? plan.token
    : plan.kind === "file"
    ? await readToken(plan)
    : await githubToken(plan, ctx);
  ctx.sensitive(token);
  // A token file may hold an opaque token (some identity providers issue them); the
  // local check applies to what decodes as a JWT. Variables and GitHub always give JWTs.
  if (plan.kind !== "file" || decodes(token)) {
    checkJwt(token, plan.kind === "file" ? `${plan.source} ${plan.path}` : plan.source);
  }
  return token;
}

function decodes(token: string): boolean {
  try {
    decodeClaims(token);
    return true;
  } catch {
    return false;
  }
}

/** A {@linkcode TokenContext} from a backend's fetch context. */
export function tokenContext(ctx: {
  sensitive(value: string): void;
  settings: Pick<ProviderSettings, "requestTimeoutMs" | "deadline">;
  signal: AbortSignal;
  log: { debug(message: string): void };
}): TokenContext {
  return {
    sensitive: ctx.sensitive,
    requestTimeoutMs: ctx.settings.requestTimeoutMs,
    deadline: ctx.settings.deadline,
    signal: ctx.signal,
    debug: (message) => ctx.log.debug(message),
  };
}
