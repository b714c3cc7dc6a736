/**
 * A fake AWS STS, a query API: `Action`, `Version` (`2011-06-15`) and the action's
 * parameters as a form POST body or a GET query; the answers and errors are XML in the
 * STS namespace. `AssumeRoleWithWebIdentity` is unsigned and checks the token;
 * `AssumeRole` must be SigV4-signed (service `sts`) by a key the store knows, by a
 * principal the role trusts, with the `ExternalId` the role requires. Issues temporary
 * keys into the shared key store.
 *
 * @module
 */

import { jwtVerify } from "jose";
import { type FakeKeyStore, verifySigV4 } from "./aws_sigv4.ts";

/** An IAM OIDC identity provider: tokens it accepts, and the roles trusting its subjects. */
export interface FakeOidcProvider {
  /** The key that verifies the provider's tokens. */
  key: CryptoKey;
  /** The issuer (`iss`). */
  issuer: string;
  /** The client id (`aud`) registered in IAM. */
  audience: string;
  /** Role ARN → the `sub` its trust policy allows. */
  roles: ReadonlyMap<string, string>;
}

/** A role `AssumeRole` may assume. */
export interface FakeAssumableRole {
  /** Access key ids whose holders the trust policy allows. */
  trusted: readonly string[];
  /** The `sts:ExternalId` the trust policy's condition requires, if any. */
  externalId?: string;
}

/** Options of the STS fake. */
export interface StsFakeOptions {
  /** Lifetime of issued credentials in milliseconds (default one hour). */
  lifetimeMs?: number;
  /** Roles `AssumeRole` may assume, by ARN. */
  roles?: ReadonlyMap<string, FakeAssumableRole>;
  /** The region requests must be signed for (default `eu-west-2`). */
  region?: string;
  /** The keys `AssumeRole` signatures are checked against (default: the issuing store). */
  callerKeys?: FakeKeyStore;
  /** An OIDC provider whose signed tokens `AssumeRoleWithWebIdentity` verifies. */
  oidc?: FakeOidcProvider;
}

/** The fake: handler and counters. */
export interface StsFake {
  /** The request handler. */
  handler: (request: Request) => Promise<Response>;
  /** Credentials issued by `AssumeRoleWithWebIdentity`. */
  readonly assumed: number;
  /** Credentials issued by `AssumeRole`, with the key id that signed each request. */
  readonly chained: { roleArn: string; signedBy: string; durationSeconds: number }[];
}

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

function xmlError(status: number, type: "Sender" | "Receiver", code: string, message: string) {
  return new Response(
    `<ErrorResponse xmlns="${NS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${code}</Code>\n    <Message>${message}</Message>\n  </Error>\n  <RequestId>${crypto.randomUUID()}</RequestId>\n</ErrorResponse>\n`,
    { status, headers: { "content-type": "text/xml" } },
  );
}

/**
 * Create an STS fake that trusts `tokens`: web identity token → the role ARN it may
 * assume.
 */
export function stsFake(
  tokens: ReadonlyMap<string, string>,
  keys: FakeKeyStore,
  options: StsFakeOptions = {},
): StsFake {
  let assumed = 0;
  const chained: StsFake["chained"] = [];
  return {
    get assumed() {
      return assumed;
    },
    chained,
    async handler(request) {
      const url = new URL(request.url);
      let params: URLSearchParams;
      const bytes = new Uint8Array(await request.arrayBuffer());
      if (request.method === "POST") {
        const type = request.headers.get("content-type") ?? "";
        if (!type.startsWith("application/x-www-form-urlencoded")) {
          return xmlError(400, "Sender", "InvalidAction", "Could not find operation for request");
        }
        params = new URLSearchParams(new TextDecoder().decode(bytes));
      } else if (request.method === "GET") {
        params = url.searchParams;
      } else {
        return xmlError(405, "Sender", "InvalidAction", "Method not allowed");
      }
      if (url.pathname !== "/") return xmlError(404, "Sender", "InvalidAction", "Not found");
      if (params.get("Action") === "AssumeRole" && params.get("Version") === "2011-06-15") {
        return await assumeRole(request, bytes, params);
      }
      if (params.get("Action") !== "AssumeRoleWithWebIdentity") {
        return xmlError(
          400,
          "Sender",
          "InvalidAction",
          `Could not find operation ${params.get("Action")} for version ${params.get("Version")}`,
        );
      }
      if (params.get("Version") !== "2011-06-15") {
        return xmlError(
          400,
          "Sender",
          "InvalidAction",
          "Could not find operation for this version",
        );
      }
      for (const name of ["RoleArn", "RoleSessionName", "WebIdentityToken"]) {
        if (!params.get(name)) {
          return xmlError(
            400,
            "Sender",
            "MissingParameter",
            `The request must contain the parameter ${name}`,
          );
        }
      }
      if (!/^[\w+=,.@-]{2,64}$/.test(params.get("RoleSessionName")!)) {
        return xmlError(
          400,
          "Sender",
          "ValidationError",
          "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint",
        );
      }
      const role = tokens.get(params.get("WebIdentityToken")!) ??
        await federatedRole(params.get("WebIdentityToken")!, params.get("RoleArn")!);
      if (role === undefined) {
        return xmlError(
          400,
          "Sender",
          "InvalidIdentityToken",
          "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
        );
      }
      if (role !== params.get("RoleArn")) {
        return xmlError(
          403,
          "Sender",
          "AccessDenied",
          "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        );
      }
      assumed++;
      const creds = keys.issue(options.lifetimeMs ?? 3600_000);
      const session = params.get("RoleSessionName")!;
      return new Response(
        `<AssumeRoleWithWebIdentityResponse xmlns="${NS}">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:ci:runner</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>${role.replace(":role/", ":assumed-role/").replace("iam::", "sts::")}/${session}</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:${session}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>${creds.sessionToken}</SessionToken>
      <SecretAccessKey>${creds.secretAccessKey}</SecretAccessKey>
      <Expiration>${creds.expiration}</Expiration>
      <AccessKeyId>${creds.accessKeyId}</AccessKeyId>
    </Credentials>
    <Provider>oidc.eks.eu-west-2.amazonaws.com/id/EXAMPLE</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>${crypto.randomUUID()}</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
`,
        { status: 200, headers: { "content-type": "text/xml" } },
      );
    },
  };

  /** The role a signed token may assume: verified signature, issuer, audience, subject. */
  async function federatedRole(token: string, roleArn: string): Promise<string | undefined> {
    const oidc = options.oidc;
    if (!oidc) return undefined;
    try {
      const { payload } = await jwtVerify(token, oidc.key, {
        issuer: oidc.issuer,
        audience: oidc.audience,
        requiredClaims: ["exp", "sub"],
      });
      const subject = oidc.roles.get(roleArn);
      // A valid token whose subject the role does not trust is AccessDenied, not invalid.
      return subject === payload.sub ? roleArn : "untrusted";
    } catch {
      return undefined;
    }
  }

  async function assumeRole(
    request: Request,
    body: Uint8Array<ArrayBuffer>,
    params: URLSearchParams,
  ): Promise<Response> {
    const verified = verifySigV4(
      request,
      body,
      options.callerKeys ?? keys,
      options.region ?? "eu-west-2",
      "sts",
    );
    if (!verified.ok) {
      // The query protocol reports the same failures as XML, with its own codes.
      const json = await verified.response.json() as { __type: string; message: string };
      const code = json.__type.split("#").pop()!;
      const query: Record<string, string> = {
        UnrecognizedClientException: "InvalidClientTokenId",
        InvalidSignatureException: "SignatureDoesNotMatch",
        ExpiredTokenException: "ExpiredToken",
      };
      return xmlError(403, "Sender", query[code] ?? code, json.message);
    }
    for (const name of ["RoleArn", "RoleSessionName"]) {
      if (!params.get(name)) {
        return xmlError(
          400,
          "Sender",
          "MissingParameter",
          `The request must contain the parameter ${name}`,
        );
      }
    }
    const roleArn = params.get("RoleArn")!;
    const session = params.get("RoleSessionName")!;
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
      return xmlError(
        400,
        "Sender",
        "ValidationError",
        "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint",
      );
    }
    const durationText = params.get("DurationSeconds") ?? "3600";
    const duration = Number(durationText);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      return xmlError(
        400,
        "Sender",
        "ValidationError",
        `1 validation error detected: Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
      );
    }
    const role = options.roles?.get(roleArn);
    const externalId = params.get("ExternalId") ?? undefined;
    const caller = `arn:aws:iam::123456789012:user/${verified.accessKeyId}`;
    if (
      !role || !role.trusted.includes(verified.accessKeyId) ||
      (role.externalId !== undefined && externalId !== role.externalId)
    ) {
      return xmlError(
        403,
        "Sender",
        "AccessDenied",
        `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    chained.push({ roleArn, signedBy: verified.accessKeyId, durationSeconds: duration });
    const creds = keys.issue(Math.min(options.lifetimeMs ?? duration * 1000, duration * 1000));
    return new Response(
      `<AssumeRoleResponse xmlns="${NS}">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>${roleArn.replace(":role/", ":assumed-role/").replace("iam::", "sts::")}/${session}</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:${session}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${creds.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${creds.secretAccessKey}</SecretAccessKey>
      <SessionToken>${creds.sessionToken}</SessionToken>
      <Expiration>${creds.expiration}</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${crypto.randomUUID()}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
`,
      { status: 200, headers: { "content-type": "text/xml" } },
    );
  }
}
