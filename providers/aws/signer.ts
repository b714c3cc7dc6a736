/**
 * SigV4 signing of AWS requests. aws4fetch builds the canonical request, the credential
 * scope and the `Authorization` header; the SHA-256 and HMAC-SHA-256 under it come from
 * `@noble/hashes`, computed in place. WebCrypto's `digest` and `sign` are asynchronous in
 * Deno: each is handed to a thread pool and back, four times per request, which costs
 * 0.3 ms a signature on a quiet machine and more than a millisecond on a busy one, on
 * every page of a list chain whose next page waits for it.
 *
 * @example
 * ```ts
 * const signed = await signAwsRequest({
 *   url: "https://secretsmanager.eu-west-1.amazonaws.com/",
 *   method: "POST",
 *   headers: { "x-amz-target": "secretsmanager.ListSecrets" },
 *   body: "{}",
 *   credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
 *   service: "secretsmanager",
 *   region: "eu-west-1",
 * });
 * await fetch(signed.url, signed);
 * ```
 *
 * @module
 */

import { AwsV4Signer } from "aws4fetch";
import { sha256 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** Derived signing keys, by secret key, day, region and service; share one per client. */
export type SigningKeys = Map<string, Uint8Array>;

/** What to sign. */
export interface AwsSignInput {
  /** The request URL. */
  url: string;
  /** The HTTP method. */
  method: string;
  /** Headers to sign and send (`host` and `x-amz-date` are added). */
  headers: Record<string, string>;
  /** The request body. */
  body: string;
  /** The credentials that sign. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The SigV4 service name, e.g. `secretsmanager`. */
  service: string;
  /** The region. */
  region: string;
  /** Signing keys already derived; without it the four key HMACs run for this request. */
  keys?: SigningKeys;
  /** The signing time as `YYYYMMDDTHHMMSSZ`; now when absent. */
  datetime?: string;
}

/** A signed request, ready for `fetch(signed.url, signed)`. */
export interface AwsSignedRequest {
  /** The request URL. */
  url: URL;
  /** The HTTP method. */
  method: string;
  /** The headers, `Authorization` and `X-Amz-Date` included. */
  headers: Headers;
  /** The body, as given. */
  body: string;
}

const encoder = new TextEncoder();

/** Sign `input` with SigV4 (header form). */
export async function signAwsRequest(input: AwsSignInput): Promise<AwsSignedRequest> {
  const signer = new InPlaceSigner({
    method: input.method,
    url: input.url,
    headers: input.headers,
    body: input.body,
    accessKeyId: input.credentials.accessKeyId,
    secretAccessKey: input.credentials.secretAccessKey,
    sessionToken: input.credentials.sessionToken,
    service: input.service,
    region: input.region,
    datetime: input.datetime,
  }, input.keys ?? new Map());
  const signed = await signer.sign();
  return { url: signed.url, method: signed.method, headers: signed.headers, body: input.body };
}

function hexSha256(text: string): string {
  return bytesToHex(sha256(encoder.encode(text)));
}

// aws4fetch's signer with only its hash primitives replaced: every part of the canonical
// request and of the header stays aws4fetch's.
class InPlaceSigner extends AwsV4Signer {
  readonly #keys: SigningKeys;

  constructor(init: ConstructorParameters<typeof AwsV4Signer>[0], keys: SigningKeys) {
    super(init);
    this.#keys = keys;
  }

  override hexBodyHash(): Promise<string> {
    return Promise.resolve(hexSha256(typeof this.body === "string" ? this.body : ""));
  }

  override async stringToSign(): Promise<string> {
    return [
      "AWS4-HMAC-SHA256",
      this.datetime,
      this.credentialString,
      hexSha256(await this.canonicalString()),
    ].join("\n");
  }

  override async signature(): Promise<string> {
    const date = this.datetime.slice(0, 8);
    const cacheKey = [this.secretAccessKey, date, this.region, this.service].join();
    let key = this.#keys.get(cacheKey);
    if (!key) {
      key = encoder.encode(`AWS4${this.secretAccessKey}`);
      for (const part of [date, this.region, this.service, "aws4_request"]) {
        key = hmac(sha256, key, encoder.encode(part));
      }
      this.#keys.set(cacheKey, key);
    }
    return bytesToHex(hmac(sha256, key, encoder.encode(await this.stringToSign())));
  }
}
