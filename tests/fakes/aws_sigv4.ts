/**
 * Shared parts of the AWS fakes: a store of access keys (long-term and temporary), an
 * independent server-side SigV4 verifier (it recomputes the signature from the request,
 * as AWS does, and answers with AWS's JSON 1.1 error bodies), and JSON 1.1 helpers.
 *
 * @module
 */

import { createHash, createHmac } from "node:crypto";

/** One access key known to the fakes. */
export interface FakeKey {
  /** The secret access key. */
  secret: string;
  /** Required session token (temporary credentials). */
  sessionToken?: string;
  /** Epoch milliseconds after which the key is expired. */
  expiresAt?: number;
}

/** Access keys by id, shared by the service fakes and the credential fakes that issue keys. */
export class FakeKeyStore {
  /** The keys, by access key id. */
  readonly keys: Map<string, FakeKey> = new Map();
  /** How many temporary keys were issued. */
  issued = 0;
  /** How many requests were refused because their temporary key had expired. */
  expiredRejections = 0;

  /** Add a long-term key. */
  add(accessKeyId: string, secret: string): this {
    this.keys.set(accessKeyId, { secret });
    return this;
  }

  /** Issue temporary credentials valid for `lifetimeMs`. */
  issue(lifetimeMs: number): {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    expiration: string;
  } {
    this.issued++;
    const accessKeyId = `ASIA${randomText(16).toUpperCase()}`;
    const secretAccessKey = randomText(40);
    const sessionToken = `FwoGZXIvYXdzE${randomText(120)}`;
    const expiresAt = Date.now() + lifetimeMs;
    this.keys.set(accessKeyId, { secret: secretAccessKey, sessionToken, expiresAt });
    return {
      accessKeyId,
      secretAccessKey,
      sessionToken,
      expiration: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
  }
}

function randomText(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}

/** The JSON 1.1 content type AWS JSON services require. */
export const JSON_11 = "application/x-amz-json-1.1";

/** An AWS JSON 1.1 error answer: `{"__type": ..., "message": ...}` with `x-amzn-ErrorType`. */
export function jsonError(status: number, type: string, message: string): Response {
  const code = type.split("#").pop()!;
  return new Response(JSON.stringify({ __type: type, message }), {
    status,
    headers: {
      "content-type": JSON_11,
      "x-amzn-errortype": `${code}:http://internal.amazon.com/coral/com.amazon.coral.service/`,
      "x-amzn-requestid": crypto.randomUUID(),
    },
  });
}

/** A JSON 1.1 success answer. */
export function jsonOk(body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": JSON_11, "x-amzn-requestid": crypto.randomUUID() },
  });
}

const CORAL = "com.amazon.coral.service#";
const encoder = new TextEncoder();

// The runtime's own SHA-256 and HMAC (not the tool's): synchronous, so a fake answering a
// load's many concurrent requests does not queue four thread-pool round trips per request
// on its event loop, which made its answers late under load.
function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

const signingKeys = new Map<string, Uint8Array>();

function bytesHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function hmac(key: Uint8Array, data: string): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalUri(pathname: string): string {
  // Non-S3 services: each segment is normalised and URI-encoded twice.
  return pathname.split("/").map((segment) => rfc3986(rfc3986(decodeURIComponent(segment))))
    .join("/") || "/";
}

function canonicalQuery(search: URLSearchParams): string {
  return [...search].map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1)
    .map(([k, v]) => `${k}=${v}`).join("&");
}

function parseAmzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/** The result of verifying a request: the key id it was signed with, or the error answer. */
export type VerifyResult = { ok: true; accessKeyId: string } | { ok: false; response: Response };

/**
 * Verify a request's SigV4 `Authorization` header the way AWS does: known key id, valid
 * session token for temporary keys, not expired, scope for this region and service, every
 * `x-amz-*` header and `host` signed, date within 15 minutes, and a signature recomputed
 * from the request and the key's secret. `body` is the request body already read.
 */
export function verifySigV4(
  request: Request,
  body: Uint8Array,
  keys: FakeKeyStore,
  region: string,
  service: string,
): VerifyResult {
  const fail = (type: string, message: string): VerifyResult => ({
    ok: false,
    response: jsonError(400, type, message),
  });
  const auth = request.headers.get("authorization");
  if (!auth) {
    return fail(`${CORAL}MissingAuthenticationTokenException`, "Missing Authentication Token");
  }
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/
      .exec(auth);
  if (!m) {
    return fail(
      `${CORAL}IncompleteSignatureException`,
      "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
    );
  }
  const [, accessKeyId, date, scopeRegion, scopeService, signedHeaderList, signature] = m;
  const amzDate = request.headers.get("x-amz-date") ?? "";
  const key = keys.keys.get(accessKeyId);
  if (!key) {
    return fail(
      `${CORAL}UnrecognizedClientException`,
      "The security token included in the request is invalid.",
    );
  }
  const token = request.headers.get("x-amz-security-token");
  if ((key.sessionToken ?? null) !== token) {
    return fail(
      `${CORAL}UnrecognizedClientException`,
      "The security token included in the request is invalid.",
    );
  }
  if (key.expiresAt !== undefined && Date.now() > key.expiresAt) {
    keys.expiredRejections++;
    return fail(
      `${CORAL}ExpiredTokenException`,
      "The security token included in the request is expired",
    );
  }
  if (scopeRegion !== region) {
    return fail(
      `${CORAL}InvalidSignatureException`,
      `Credential should be scoped to a valid region. `,
    );
  }
  if (scopeService !== service) {
    return fail(
      `${CORAL}InvalidSignatureException`,
      `Credential should be scoped to correct service: '${service}'. `,
    );
  }
  const time = parseAmzDate(amzDate);
  if (Number.isNaN(time) || amzDate.slice(0, 8) !== date) {
    return fail(
      `${CORAL}IncompleteSignatureException`,
      "Date must be in ISO-8601 'basic format'. Got ''. See http://en.wikipedia.org/wiki/ISO_8601",
    );
  }
  if (Math.abs(Date.now() - time) > 15 * 60_000) {
    return fail(
      `${CORAL}InvalidSignatureException`,
      `Signature expired: ${amzDate} is now earlier than the allowed window.`,
    );
  }
  const signed = signedHeaderList.split(";");
  const present = [...request.headers.keys()];
  for (const required of ["host", ...present.filter((h) => h.startsWith("x-amz-"))]) {
    if (!signed.includes(required)) {
      return fail(
        `${CORAL}InvalidSignatureException`,
        `'${required}' must be a 'SignedHeader' in the AWS Authorization.`,
      );
    }
  }
  const url = new URL(request.url);
  const canonicalHeaders = signed.map((name) =>
    `${name}:${(request.headers.get(name) ?? "").trim().replace(/\s+/g, " ")}\n`
  ).join("");
  const canonicalRequest = [
    request.method,
    canonicalUri(url.pathname),
    canonicalQuery(url.searchParams),
    canonicalHeaders,
    signedHeaderList,
    sha256(body),
  ].join("\n");
  const scope = `${date}/${scopeRegion}/${scopeService}/aws4_request`;
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    scope,
    sha256(encoder.encode(canonicalRequest)),
  ].join("\n");
  // The derived key depends on the secret, date, region and service only: derived once.
  const keyId = [key.secret, date, scopeRegion, scopeService].join("\n");
  let signingKey = signingKeys.get(keyId);
  if (!signingKey) {
    signingKey = hmac(encoder.encode(`AWS4${key.secret}`), date);
    for (const part of [scopeRegion, scopeService, "aws4_request"]) {
      signingKey = hmac(signingKey, part);
    }
    signingKeys.set(keyId, signingKey);
  }
  const expected = bytesHex(hmac(signingKey, stringToSign));
  if (expected !== signature) {
    return fail(
      `${CORAL}InvalidSignatureException`,
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  return { ok: true, accessKeyId };
}

/** Options every AWS JSON service fake takes. */
export interface JsonServiceOptions {
  /** The region the fake serves (default `eu-west-2`). */
  region?: string;
  /** Operations denied with `AccessDeniedException`, e.g. `BatchGetSecretValue`. */
  deny?: Iterable<string>;
  /** A broken service: every list page hands back the token of its second page again. */
  repeatPaging?: boolean;
  /** Answer every signed request with a 307 to this location (a misrouting proxy). */
  redirect?: string;
}

/** A fault to answer instead of the real result. */
export interface Fault {
  /** HTTP status. */
  status: number;
  /** Error `__type`, e.g. `ThrottlingException`; omitted for a bare 5xx. */
  type?: string;
}

/**
 * The common front of a JSON 1.1 service fake: method and path, content type, target
 * prefix, signature, injected faults. Returns the operation and parsed body, or an answer.
 */
export async function jsonFront(
  request: Request,
  options: {
    keys: FakeKeyStore;
    region: string;
    service: string;
    targetPrefix: string;
    operations: readonly string[];
    faults: Fault[];
    redirect?: string;
    calls: Map<string, number>;
  },
): Promise<{ operation: string; input: Record<string, unknown> } | Response> {
  const url = new URL(request.url);
  if (request.method !== "POST" || url.pathname !== "/") {
    return jsonError(404, `${CORAL}UnknownOperationException`, "");
  }
  const body = new Uint8Array(await request.arrayBuffer());
  const verified = verifySigV4(request, body, options.keys, options.region, options.service);
  if (!verified.ok) return verified.response;
  const target = request.headers.get("x-amz-target") ?? "";
  const [prefix, operation] = target.split(".");
  if (prefix !== options.targetPrefix || !options.operations.includes(operation ?? "")) {
    return jsonError(400, `${CORAL}UnknownOperationException`, "");
  }
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim();
  if (type !== JSON_11) {
    return jsonError(400, `${CORAL}SerializationException`, "");
  }
  let input: unknown;
  try {
    input = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return jsonError(400, `${CORAL}SerializationException`, "");
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return jsonError(400, `${CORAL}SerializationException`, "");
  }
  options.calls.set(operation, (options.calls.get(operation) ?? 0) + 1);
  if (options.redirect) {
    return new Response(null, { status: 307, headers: { Location: options.redirect } });
  }
  const fault = options.faults.shift();
  if (fault) {
    if (!fault.type) return new Response("Service Unavailable", { status: fault.status });
    return jsonError(fault.status, fault.type, "Rate exceeded");
  }
  return { operation, input: input as Record<string, unknown> };
}

/** A validation error as AWS words it. */
export function validation(message: string): Response {
  return jsonError(400, "com.amazon.coral.validate#ValidationException", message);
}

/** The denial AWS gives an identity without the permission. */
export function denied(action: string, resource = "*"): Response {
  return jsonError(
    400,
    "AccessDeniedException",
    `User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
  );
}

/** Page tokens: opaque base64 of an offset plus a tag (so a token from another call fails). */
export function pageToken(tag: string, offset: number): string {
  return btoa(JSON.stringify({ tag, offset }));
}

/** Parse a page token; undefined when absent, null when invalid. */
export function readPageToken(tag: string, token: unknown): number | undefined | null {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(atob(String(token)));
    return parsed.tag === tag && Number.isInteger(parsed.offset) ? parsed.offset : null;
  } catch {
    return null;
  }
}
