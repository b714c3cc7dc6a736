/**
 * Calls to AWS JSON 1.1 APIs (Secrets Manager, SSM): a SigV4-signed POST with
 * `X-Amz-Target`, retried on throttling, 5xx and network errors, with AWS error bodies
 * (`__type`) turned into typed errors.
 *
 * @module
 */

import { detail, ToolError } from "../../lib/kit/errors.ts";
import { RetryableError, retryAfterMs, withRetry } from "../../lib/kit/retry.ts";
import { hostPort } from "../../lib/kit/params.ts";
import type { RateGate } from "../../lib/kit/limiters.ts";
import { readJson, refuseRedirect } from "../../lib/kit/response.ts";
import type { FetchContext } from "../../lib/contract/provider.ts";
import type { CredentialProvider } from "./credentials.ts";
import { signAwsRequest, type SigningKeys } from "./signer.ts";

/** Error codes AWS uses for throttling; answered as HTTP 400, so retried here. */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "ProvisionedThroughputExceededException",
  "SlowDown",
  "PriorRequestNotComplete",
]);

/** Error codes meaning the identity was refused or lacks a permission. */
export const AUTH_CODES: ReadonlySet<string> = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "MissingAuthenticationTokenException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "ExpiredTokenException",
  "NotAuthorized",
]);

/** An AWS error answer that is neither throttling nor authentication (e.g. not found). */
export class AwsApiError extends ToolError {
  /** The error code from `__type`, e.g. `ResourceNotFoundException`. */
  readonly code: string;

  /** Create an API error with its code. */
  constructor(code: string, message: string) {
    super("backend", message);
    this.code = code;
  }
}

/** The error code of an AWS JSON error body: the part of `__type` after `#`, before `:`. */
export function errorCode(type: string | undefined, header: string | null): string | undefined {
  const raw = type ?? header ?? undefined;
  if (!raw) return undefined;
  return raw.split("#").pop()!.split(":")[0].trim() || undefined;
}

/** A client for one AWS JSON 1.1 service. */
export interface JsonClient {
  /**
   * Call `Target.operation` with `body`. `subject` names what the call is about (a secret,
   * a path) in error messages.
   */
  call<T>(operation: string, body: unknown, subject?: string): Promise<T>;
}

/** Options for {@linkcode jsonClient}. */
export interface JsonClientOptions {
  /** The endpoint URL. */
  endpoint: string;
  /** The SigV4 service name, e.g. `secretsmanager`. */
  service: string;
  /** The target prefix, e.g. `secretsmanager` or `AmazonSSM`. */
  targetPrefix: string;
  /** The human name for messages, e.g. `AWS Secrets Manager`. */
  label: string;
  /** The region. */
  region: string;
  /** Where credentials come from. */
  credentials: CredentialProvider;
  /** The fetch context (deadline, timeouts, log, abort). */
  ctx: FetchContext;
  /** The rate gate pacing each attempt of `operation` (its documented quota), if any. */
  gate?: (operation: string) => RateGate | undefined;
  /** Called on every throttling answer, so limiters can back off. */
  onThrottle?: (operation: string) => void;
}

/** An authentication or permission refusal, with its AWS error code. */
export class AwsAuthError extends ToolError {
  /** The error code, e.g. `AccessDeniedException`. */
  readonly code: string;

  /** Create a refusal with its code. */
  constructor(code: string, message: string) {
    super("auth", message);
    this.code = code;
  }
}

/** Create a {@linkcode JsonClient}. */
export function jsonClient(options: JsonClientOptions): JsonClient {
  const { ctx, credentials } = options;
  const url = `${options.endpoint}/`;
  // Shared by every request of this client: the SigV4 signing key (four HMACs) is derived
  // once per credentials and day instead of once per request.
  const signingKeys: SigningKeys = new Map();
  return {
    call<T>(operation: string, body: unknown, subject?: string): Promise<T> {
      const what = `${options.label} ${operation}`;
      const about = subject ? ` for ${subject}` : "";
      let refreshedOnce = false;
      const gate = options.gate?.(operation);
      return withRetry((signal) => gate ? gate.run(() => attempt(signal)) : attempt(signal), {
        operation: `${what}${about}`,
        deadline: ctx.settings.deadline,
        timeoutMs: ctx.settings.requestTimeoutMs,
        signal: ctx.signal,
        onRetry: (cause, attempt, delay) =>
          ctx.log.debug(
            `${what}${about}: retry ${attempt} in ${Math.round(delay)}ms after ${cause}`,
          ),
        target: hostPort(options.endpoint),
      });

      async function attempt(signal: AbortSignal): Promise<T> {
        const creds = await credentials.get();
        const signed = await signAwsRequest({
          method: "POST",
          url,
          headers: {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": `${options.targetPrefix}.${operation}`,
          },
          body: JSON.stringify(body),
          credentials: creds,
          service: options.service,
          region: options.region,
          keys: signingKeys,
        });
        const response = await fetch(signed.url, {
          method: signed.method,
          headers: signed.headers,
          body: signed.body,
          signal,
          redirect: "manual",
        });
        await refuseRedirect(response, `${what}${about}`);
        if (response.ok) {
          try {
            return await readJson(response, `${what}${about}`) as T;
          } catch (error) {
            if (error instanceof ToolError) throw error;
            throw new RetryableError("the answer was not complete JSON");
          }
        }
        let parsed: { __type?: string; message?: string; Message?: string } = {};
        try {
          parsed = await readJson(response, `${what}${about}`) as typeof parsed;
        } catch (error) {
          if (error instanceof ToolError) throw error;
          // no JSON body: classify by status alone
        }
        const code = errorCode(parsed.__type, response.headers.get("x-amzn-errortype")) ??
          `HTTP ${response.status}`;
        const message = parsed.message ?? parsed.Message ?? "";
        if (response.status === 429 || THROTTLING_CODES.has(code)) {
          options.onThrottle?.(operation);
        }
        if (response.status >= 500 || response.status === 429 || THROTTLING_CODES.has(code)) {
          throw new RetryableError(`${code} (HTTP ${response.status})`, retryAfterMs(response));
        }
        if (code === "ExpiredTokenException" && credentials.refreshable && !refreshedOnce) {
          refreshedOnce = true;
          credentials.invalidate();
          throw new RetryableError("ExpiredTokenException: temporary credentials expired");
        }
        if (AUTH_CODES.has(code) || response.status === 403) {
          throw new AwsAuthError(
            code,
            `${what}${about} was refused: ${code}${
              message ? `: ${detail(message)}` : ""
            } (credentials: ${credentials.description}); check the keys and the IAM policy (see docs/backends/aws-credentials.md, IAM permissions)`,
          );
        }
        throw new AwsApiError(
          code,
          `${what}${about} failed: ${code}${message ? `: ${detail(message)}` : ""}`,
        );
      }
    },
  };
}
