/**
 * Client certificate credentials: read the PEM file (certificate plus RSA private key) and
 * sign the client assertion JWT Microsoft Entra expects, with the `x5t#S256` thumbprint.
 * `jose` is loaded on first use: only certificate logins pay for it at start-up.
 *
 * @module
 */

import { ToolError } from "../../lib/kit/errors.ts";
import { parsePem, pkcs1ToPkcs8, toPem } from "./der.ts";

/** The `client_assertion_type` for a JWT client assertion. */
export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** The signing algorithm (Entra accepts RS256 and PS256 and recommends PS256). */
export const ASSERTION_ALG = "PS256";

/** A loaded client certificate. */
export interface ClientCertificate {
  /** base64url SHA-256 of the certificate's DER (the `x5t#S256` header). */
  thumbprint: string;
  /** The private key, for signing. */
  key: CryptoKey;
}

/** The `x5t#S256` thumbprint of a DER certificate. */
export async function thumbprintS256(der: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", der as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Parse a PEM text holding one certificate and its unencrypted RSA private key. */
export async function parseClientCertificate(
  text: string,
  path: string,
): Promise<ClientCertificate> {
  const blocks = parsePem(text);
  const cert = blocks.find((b) => b.label === "CERTIFICATE");
  if (!cert) {
    throw new ToolError(
      "config",
      `SECRETS_AZURE_CLIENT_CERTIFICATE_PATH ${path} holds no "BEGIN CERTIFICATE" block; it needs the certificate and its private key in PEM`,
    );
  }
  if (blocks.some((b) => b.label === "ENCRYPTED PRIVATE KEY")) {
    throw new ToolError(
      "config",
      `SECRETS_AZURE_CLIENT_CERTIFICATE_PATH ${path} holds an encrypted private key; store it unencrypted (openssl pkcs8 -topk8 -nocrypt)`,
    );
  }
  const pkcs8 = blocks.find((b) => b.label === "PRIVATE KEY")?.der ??
    (() => {
      const rsa = blocks.find((b) => b.label === "RSA PRIVATE KEY");
      return rsa ? pkcs1ToPkcs8(rsa.der) : undefined;
    })();
  if (!pkcs8) {
    throw new ToolError(
      "config",
      `SECRETS_AZURE_CLIENT_CERTIFICATE_PATH ${path} holds no RSA private key ("BEGIN PRIVATE KEY" or "BEGIN RSA PRIVATE KEY")`,
    );
  }
  const { importPKCS8 } = await import("jose");
  let key: CryptoKey;
  try {
    key = await importPKCS8(toPem("PRIVATE KEY", pkcs8), ASSERTION_ALG);
  } catch {
    throw new ToolError(
      "config",
      `SECRETS_AZURE_CLIENT_CERTIFICATE_PATH ${path}: the private key is not a usable RSA key (Microsoft Entra certificates must be RSA)`,
    );
  }
  return { thumbprint: await thumbprintS256(cert.der), key };
}

/** Sign a client assertion for `clientId` at the token endpoint `audience`, valid 10 minutes. */
export async function clientAssertion(
  cert: ClientCertificate,
  clientId: string,
  audience: string,
): Promise<string> {
  const { SignJWT } = await import("jose");
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: ASSERTION_ALG, typ: "JWT", "x5t#S256": cert.thumbprint })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 600)
    .sign(cert.key);
}
