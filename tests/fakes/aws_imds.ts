/**
 * A fake EC2 instance metadata service. IMDSv2: `PUT /latest/api/token` with
 * `X-aws-ec2-metadata-token-ttl-seconds` (1-21600) returns a token; GETs under
 * `/latest/meta-data/` need it in `X-aws-ec2-metadata-token` (401 without a valid one when
 * tokens are required). Can act as IMDSv1-only (PUT answers 403) or delay the PUT answer
 * past the client's timeout, as an instance with hop limit 1 does for a container.
 *
 * @module
 */

import type { FakeKeyStore } from "./aws_sigv4.ts";

/** Options of the IMDS fake. */
export interface ImdsFakeOptions {
  /** The attached role (default `ci-runner`); null for none. */
  role?: string | null;
  /** Lifetime of issued credentials in milliseconds (default six hours). */
  lifetimeMs?: number;
  /** `required` (IMDSv2 only, the default), `optional` (v1 and v2), `v1-only` (PUT → 403). */
  tokens?: "required" | "optional" | "v1-only";
  /**
   * Answer the token PUT only after this many milliseconds, as an instance with hop limit 1
   * looks to a container (the answer never arrives in time).
   */
  dropTokenPutMs?: number;
}

/** The fake: handler and counters. */
export interface ImdsFake {
  /** The request handler. */
  handler: (request: Request) => Promise<Response>;
  /** Tokens issued. */
  readonly tokens: number;
  /** Credentials issued. */
  readonly issued: number;
}

/** Create an IMDS fake issuing credentials into `keys`. */
export function imdsFake(keys: FakeKeyStore, options: ImdsFakeOptions = {}): ImdsFake {
  const role = options.role === undefined ? "ci-runner" : options.role;
  const mode = options.tokens ?? "required";
  const valid = new Map<string, number>();
  let tokens = 0;
  let issued = 0;
  const text = (status: number, body: string) =>
    new Response(body, { status, headers: { "content-type": "text/plain" } });
  return {
    get tokens() {
      return tokens;
    },
    get issued() {
      return issued;
    },
    async handler(request) {
      const url = new URL(request.url);
      if (url.pathname === "/latest/api/token") {
        if (request.method !== "PUT") return text(405, "");
        if (options.dropTokenPutMs !== undefined) {
          await new Promise((resolve) => setTimeout(resolve, options.dropTokenPutMs));
          return text(200, "too-late-token");
        }
        if (mode === "v1-only") return text(403, "");
        const ttl = Number(request.headers.get("x-aws-ec2-metadata-token-ttl-seconds"));
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return text(400, "");
        if (request.headers.has("x-forwarded-for")) return text(403, "");
        const token = `AQAEA${crypto.randomUUID().replaceAll("-", "")}==`;
        valid.set(token, Date.now() + ttl * 1000);
        tokens++;
        return text(200, token);
      }
      if (request.method !== "GET") return text(405, "");
      const token = request.headers.get("x-aws-ec2-metadata-token");
      if (token !== null && mode !== "v1-only") {
        const until = valid.get(token);
        if (until === undefined || until < Date.now()) return text(401, "");
      } else if (mode === "required") {
        return text(401, "");
      }
      const base = "/latest/meta-data/iam/security-credentials/";
      if (url.pathname === base) {
        return role === null ? text(404, "") : text(200, role);
      }
      if (url.pathname === `${base}${role}` && role !== null) {
        issued++;
        const creds = keys.issue(options.lifetimeMs ?? 6 * 3600_000);
        return new Response(
          JSON.stringify(
            {
              Code: "Success",
              LastUpdated: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
              Type: "AWS-HMAC",
              AccessKeyId: creds.accessKeyId,
              SecretAccessKey: creds.secretAccessKey,
              Token: creds.sessionToken,
              Expiration: creds.expiration,
            },
            null,
            2,
          ),
          { status: 200, headers: { "content-type": "text/plain" } },
        );
      }
      return text(404, "");
    },
  };
}
