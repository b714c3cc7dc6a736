/**
 * A fake Microsoft identity platform for tests and benchmarks: the v2.0 token endpoint
 * (`POST /{tenant}/oauth2/v2.0/token`, client credentials with a client secret, a client
 * certificate assertion or a federated token), the Instance Metadata Service
 * (`GET /metadata/identity/oauth2/token`, `Metadata: true`) and the App Service identity
 * endpoint (`GET /msi/token`, `X-IDENTITY-HEADER`, api-version 2019-08-01).
 *
 * Access tokens are JWTs signed with a key only this fake knows; {@linkcode AzureIdentityFake.verify}
 * lets the Key Vault fake accept exactly the tokens this fake issued.
 *
 * @module
 */

import {
  base64url,
  decodeJwt,
  decodeProtectedHeader,
  importX509,
  type JWTPayload,
  jwtVerify,
  type KeyObject,
  SignJWT,
} from "jose";
import { parsePem } from "../../providers/azure/der.ts";
import type { FakeHandler } from "./server.ts";

/** An app registration (service principal). */
export interface FakeApp {
  /** Its application (client) id. */
  clientId: string;
  /** A client secret it accepts. */
  secret?: string;
  /** A certificate registered on it (PEM). */
  certificatePem?: string;
  /** A federated identity credential: tokens from `issuer` for `subject`, signed by `key`. */
  federated?: { issuer: string; subject: string; audience?: string; key: CryptoKey | KeyObject };
}

/** What the fake knows. */
export interface AzureIdentityData {
  /** The tenant id. */
  tenant: string;
  /** App registrations for the token endpoint. */
  apps?: FakeApp[];
  /** The system-assigned managed identity's client id (IMDS and App Service). */
  systemIdentity?: string;
  /** User-assigned managed identities' client ids. */
  userIdentities?: string[];
  /** The `IDENTITY_HEADER` value App Service expects. */
  identityHeader?: string;
  /** Resources tokens may be issued for (default `https://vault.azure.net`). */
  resources?: string[];
}

/** Options. */
export interface AzureIdentityOptions {
  /** Lifetime of issued tokens in seconds (default 3599). */
  lifetimeSeconds?: number;
}

/** Counters, per endpoint. */
export interface AzureIdentityCounters {
  /** Token endpoint requests (any outcome). */
  token: number;
  /** IMDS requests. */
  imds: number;
  /** App Service requests. */
  appService: number;
  /** Tokens issued. */
  issued: number;
  /** Requests refused (4xx). */
  refused: number;
}

/** Claims of an issued token. */
export interface IssuedClaims extends JWTPayload {
  /** The client (application) id of the caller. */
  appid: string;
  /** The tenant. */
  tid: string;
}

/** A running identity fake. */
export interface AzureIdentityFake {
  /** The handler for `startFake`. */
  handler: FakeHandler;
  /** Counters. */
  counters: AzureIdentityCounters;
  /** The claims of a token this fake issued and that has not expired, else undefined. */
  verify(token: string): Promise<IssuedClaims | undefined>;
  /** Every assertion and token this fake saw or issued (for leak checks). */
  seen: string[];
}

/** The audience federated tokens must carry for Entra. */
export const FEDERATION_AUDIENCE = "api://AzureADTokenExchange";
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

function entraError(status: number, error: string, code: number, text: string): Response {
  const now = new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  return Response.json({
    error,
    error_description:
      `AADSTS${code}: ${text} Trace ID: ${crypto.randomUUID()} Correlation ID: ${crypto.randomUUID()} Timestamp: ${now}`,
    error_codes: [code],
    timestamp: now,
    trace_id: crypto.randomUUID(),
    correlation_id: crypto.randomUUID(),
  }, { status });
}

async function sha256Thumbprint(pem: string): Promise<string> {
  const der = parsePem(pem).find((b) => b.label === "CERTIFICATE")!.der;
  const digest = await crypto.subtle.digest("SHA-256", der as Uint8Array<ArrayBuffer>);
  return base64url.encode(new Uint8Array(digest));
}

/** Create the fake over a data set. */
export function azureIdentityFake(
  data: AzureIdentityData,
  options: AzureIdentityOptions = {},
): AzureIdentityFake {
  const signingKey = crypto.getRandomValues(new Uint8Array(32));
  const resources = data.resources ?? ["https://vault.azure.net"];
  const lifetime = options.lifetimeSeconds ?? 3599;
  const counters: AzureIdentityCounters = {
    token: 0,
    imds: 0,
    appService: 0,
    issued: 0,
    refused: 0,
  };
  const seen: string[] = [];
  const issuer = `https://sts.windows.net/${data.tenant}/`;

  const issue = async (clientId: string, resource: string) => {
    counters.issued++;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ appid: clientId, tid: data.tenant, oid: crypto.randomUUID() })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(issuer)
      .setAudience(resource)
      .setIssuedAt(now)
      .setNotBefore(now - 300)
      .setExpirationTime(now + lifetime)
      .setJti(crypto.randomUUID())
      .sign(signingKey);
    seen.push(token);
    return { token, expiresOn: now + lifetime };
  };

  const refuse = (response: Response) => {
    counters.refused++;
    return response;
  };

  const tokenEndpoint = async (request: Request, tenant: string): Promise<Response> => {
    counters.token++;
    if (tenant !== data.tenant) {
      return refuse(
        entraError(400, "invalid_request", 90002, `Tenant '${tenant}' not found.`),
      );
    }
    if (
      !(request.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded")
    ) {
      return refuse(
        entraError(
          400,
          "invalid_request",
          900144,
          "The request body must contain the following parameter: 'grant_type'.",
        ),
      );
    }
    const form = new URLSearchParams(await request.text());
    if (form.get("grant_type") !== "client_credentials") {
      return refuse(
        entraError(
          400,
          "unsupported_grant_type",
          70003,
          "The app requested an unsupported grant type.",
        ),
      );
    }
    const scope = form.get("scope") ?? "";
    const resource = scope.replace(/\/\.default$/, "");
    if (!scope.endsWith("/.default") || !resources.includes(resource)) {
      return refuse(
        entraError(
          400,
          "invalid_scope",
          70011,
          `The provided value for scope ${scope} is not valid.`,
        ),
      );
    }
    const clientId = form.get("client_id") ?? "";
    const app = data.apps?.find((a) => a.clientId === clientId);
    if (!app) {
      return refuse(
        entraError(
          400,
          "unauthorized_client",
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
        ),
      );
    }
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (secret !== null) {
      seen.push(secret);
      if (app.secret === undefined || secret !== app.secret) {
        return refuse(
          entraError(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
          ),
        );
      }
    } else if (assertion !== null) {
      seen.push(assertion);
      if (form.get("client_assertion_type") !== JWT_BEARER) {
        return refuse(entraError(400, "invalid_request", 50027, "Invalid client_assertion_type."));
      }
      const audience = `${new URL(request.url).origin}/${tenant}/oauth2/v2.0/token`;
      let claims: JWTPayload;
      try {
        claims = decodeJwt(assertion);
      } catch {
        return refuse(
          entraError(400, "invalid_client", 50027, "JWT token is invalid or malformed."),
        );
      }
      const problem = claims.iss === clientId
        ? await checkCertificateAssertion(app, assertion, audience)
        : await checkFederatedAssertion(app, assertion);
      if (problem) return refuse(problem);
    } else {
      return refuse(
        entraError(
          401,
          "invalid_client",
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ),
      );
    }
    const { token } = await issue(clientId, resource);
    return Response.json({
      token_type: "Bearer",
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: token,
    });
  };

  const managedIdentity = (clientId: string | null): string | undefined => {
    if (clientId === null) return data.systemIdentity;
    return data.userIdentities?.includes(clientId) || clientId === data.systemIdentity
      ? clientId
      : undefined;
  };

  const imds = async (request: Request, url: URL): Promise<Response> => {
    counters.imds++;
    const bad = (description: string) =>
      refuse(
        Response.json({ error: "invalid_request", error_description: description }, {
          status: 400,
        }),
      );
    if (request.method !== "GET") return refuse(new Response(null, { status: 405 }));
    if (request.headers.get("metadata") !== "true") {
      return bad("Required metadata header not specified");
    }
    if (request.headers.has("x-forwarded-for")) {
      return bad("Request contains X-Forwarded-For header");
    }
    if (url.searchParams.get("api-version") !== "2018-02-01") {
      return bad(
        url.searchParams.has("api-version")
          ? "Invalid api-version"
          : "api-version parameter is required",
      );
    }
    const resource = url.searchParams.get("resource");
    if (!resource) return bad("Required audience parameter not specified");
    if (!resources.includes(resource.replace(/\/$/, ""))) return bad("Invalid resource");
    const clientId = managedIdentity(url.searchParams.get("client_id"));
    if (!clientId) return bad("Identity not found");
    const { token, expiresOn } = await issue(clientId, resource.replace(/\/$/, ""));
    const now = Math.floor(Date.now() / 1000);
    return Response.json({
      access_token: token,
      client_id: clientId,
      expires_in: String(lifetime),
      expires_on: String(expiresOn),
      ext_expires_in: String(lifetime),
      not_before: String(now - 300),
      resource,
      token_type: "Bearer",
    });
  };

  const appService = async (request: Request, url: URL): Promise<Response> => {
    counters.appService++;
    const bad = (status: number, message: string) =>
      refuse(
        Response.json({ statusCode: status, message, correlationId: crypto.randomUUID() }, {
          status,
        }),
      );
    if (request.method !== "GET") return refuse(new Response(null, { status: 405 }));
    const header = request.headers.get("x-identity-header");
    if (header === null) return bad(400, "No X-IDENTITY-HEADER header found in request");
    if (data.identityHeader === undefined || header !== data.identityHeader) {
      return bad(401, "Invalid X-IDENTITY-HEADER header");
    }
    if (url.searchParams.get("api-version") !== "2019-08-01") {
      return bad(400, "An api-version of 2019-08-01 is required");
    }
    const resource = url.searchParams.get("resource");
    if (!resource || !resources.includes(resource.replace(/\/$/, ""))) {
      return bad(400, "A valid resource is required");
    }
    const clientId = managedIdentity(url.searchParams.get("client_id"));
    if (!clientId) return bad(400, "No managed identity found for the specified client_id");
    const { token, expiresOn } = await issue(clientId, resource.replace(/\/$/, ""));
    return Response.json({
      access_token: token,
      expires_on: String(expiresOn),
      resource,
      token_type: "Bearer",
      client_id: clientId,
    });
  };

  const handler: FakeHandler = (request) => {
    const url = new URL(request.url);
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (token) {
      if (request.method !== "POST") return refuse(new Response(null, { status: 405 }));
      return tokenEndpoint(request, token[1]);
    }
    if (url.pathname === "/metadata/identity/oauth2/token") return imds(request, url);
    if (url.pathname === "/msi/token") return appService(request, url);
    return refuse(new Response("not found", { status: 404 }));
  };

  const verified = new Map<string, IssuedClaims>();
  return {
    handler,
    counters,
    seen,
    async verify(token) {
      // A token string verified once stays valid until it expires (as the service caches
      // validated tokens); benchmarks send thousands of requests with one token.
      const known = verified.get(token);
      if (known) {
        if ((known.exp ?? 0) * 1000 > Date.now()) return known;
        verified.delete(token);
        return undefined;
      }
      try {
        const { payload } = await jwtVerify(token, signingKey, {
          issuer,
          algorithms: ["HS256"],
        });
        if (typeof payload.appid !== "string") return undefined;
        verified.set(token, payload as IssuedClaims);
        return payload as IssuedClaims;
      } catch {
        return undefined;
      }
    },
  };
}

async function checkCertificateAssertion(
  app: FakeApp,
  assertion: string,
  audience: string,
): Promise<Response | undefined> {
  const fail = (code: number, text: string) => entraError(401, "invalid_client", code, text);
  if (!app.certificatePem) {
    return fail(
      700027,
      "Client assertion failed signature validation. (no certificate is registered)",
    );
  }
  const header = decodeProtectedHeader(assertion);
  if (header.alg !== "RS256" && header.alg !== "PS256") {
    return fail(
      5002738,
      `Invalid JWT token. '${header.alg}' is not a supported signature algorithm.`,
    );
  }
  const thumbprint = header["x5t#S256"];
  if (typeof thumbprint !== "string" || thumbprint !== await sha256Thumbprint(app.certificatePem)) {
    return fail(
      700027,
      "The certificate with identifier used to sign the client assertion is not registered on application.",
    );
  }
  try {
    const key = await importX509(app.certificatePem, header.alg);
    const { payload } = await jwtVerify(assertion, key, {
      audience,
      issuer: app.clientId,
      subject: app.clientId,
      algorithms: [header.alg],
      requiredClaims: ["exp", "jti"],
    });
    if (typeof payload.exp !== "number" || payload.exp * 1000 < Date.now()) {
      return fail(700024, "Client assertion is not within its valid time range.");
    }
  } catch (error) {
    const name = (error as { code?: string }).code ?? "";
    if (name === "ERR_JWT_EXPIRED") {
      return fail(700024, "Client assertion is not within its valid time range.");
    }
    if (name === "ERR_JWT_CLAIM_VALIDATION_FAILED") {
      return fail(
        700021,
        `Client assertion audience claim does not match Realm issuer. (${
          (error as Error).message
        })`,
      );
    }
    return fail(700027, "Client assertion failed signature validation.");
  }
  return undefined;
}

async function checkFederatedAssertion(
  app: FakeApp,
  assertion: string,
): Promise<Response | undefined> {
  const fail = (code: number, text: string) => entraError(400, "invalid_request", code, text);
  const fc = app.federated;
  if (!fc) {
    return fail(70021, "No matching federated identity record found for presented assertion.");
  }
  try {
    await jwtVerify(assertion, fc.key, {
      issuer: fc.issuer,
      subject: fc.subject,
      audience: fc.audience ?? FEDERATION_AUDIENCE,
      requiredClaims: ["exp"],
    });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_JWT_EXPIRED") {
      return fail(700024, "Client assertion is not within its valid time range.");
    }
    return fail(70021, "No matching federated identity record found for presented assertion.");
  }
  return undefined;
}
