/**
 * A fake AWS STS for `AssumeRoleWithWebIdentity`, a query API: `Action`, `Version`
 * (`2011-06-15`), `RoleArn`, `RoleSessionName`, `WebIdentityToken` as a form POST body or a
 * GET query, unsigned; the answer and errors are XML in the STS namespace. Issues
 * temporary keys into the shared key store.
 *
 * @module
 */

import type { FakeKeyStore } from "./aws_sigv4.ts";

/** Options of the STS fake. */
export interface StsFakeOptions {
  /** Lifetime of issued credentials in milliseconds (default one hour). */
  lifetimeMs?: number;
}

/** The fake: handler and counters. */
export interface StsFake {
  /** The request handler. */
  handler: (request: Request) => Promise<Response>;
  /** Credentials issued. */
  readonly assumed: number;
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
  return {
    get assumed() {
      return assumed;
    },
    async handler(request) {
      const url = new URL(request.url);
      let params: URLSearchParams;
      if (request.method === "POST") {
        const type = request.headers.get("content-type") ?? "";
        if (!type.startsWith("application/x-www-form-urlencoded")) {
          return xmlError(400, "Sender", "InvalidAction", "Could not find operation for request");
        }
        params = new URLSearchParams(await request.text());
      } else if (request.method === "GET") {
        params = url.searchParams;
      } else {
        return xmlError(405, "Sender", "InvalidAction", "Method not allowed");
      }
      if (url.pathname !== "/") return xmlError(404, "Sender", "InvalidAction", "Not found");
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
      const role = tokens.get(params.get("WebIdentityToken")!);
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
}
