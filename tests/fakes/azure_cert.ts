/**
 * TEST-ONLY certificates: an RSA key pair made with WebCrypto and a minimal self-signed
 * X.509 certificate built here, in PEM, for the client certificate path. Nothing is
 * written to git; every run makes new ones.
 *
 * @module
 */

import { tlv, toPem } from "../../providers/azure/der.ts";

/** A test certificate and its private key. */
export interface TestCertificate {
  /** `-----BEGIN CERTIFICATE-----` PEM. */
  certPem: string;
  /** `-----BEGIN PRIVATE KEY-----` (PKCS#8) PEM. */
  keyPem: string;
  /** The certificate's DER bytes. */
  der: Uint8Array;
}

const SHA256_WITH_RSA = tlv(
  0x30,
  tlv(0x06, new Uint8Array([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b])),
  tlv(0x05),
);

function name(commonName: string): Uint8Array {
  const cn = tlv(0x30, tlv(0x06, new Uint8Array([0x55, 0x04, 0x03])), tlv(0x0c, utf8(commonName)));
  return tlv(0x30, tlv(0x31, cn));
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function utcTime(date: Date): Uint8Array {
  const two = (n: number) => String(n).padStart(2, "0");
  const text = `${two(date.getUTCFullYear() % 100)}${two(date.getUTCMonth() + 1)}${
    two(date.getUTCDate())
  }${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  return tlv(0x17, utf8(text));
}

/** Make a fresh RSA-2048 key and a self-signed certificate valid for a day. */
export async function makeTestCertificate(commonName = "secrets-orchestrator test only"): Promise<
  TestCertificate
> {
  const keys = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const serial = crypto.getRandomValues(new Uint8Array(9));
  serial[0] = 0x01;
  const now = Date.now();
  const tbs = tlv(
    0x30,
    tlv(0xa0, tlv(0x02, new Uint8Array([2]))),
    tlv(0x02, serial),
    SHA256_WITH_RSA,
    name(commonName),
    tlv(0x30, utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 86400_000))),
    name(commonName),
    spki,
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign("RSASSA-PKCS1-v1_5", keys.privateKey, tbs as Uint8Array<ArrayBuffer>),
  );
  const bits = new Uint8Array(signature.length + 1);
  bits.set(signature, 1);
  const der = tlv(0x30, tbs, SHA256_WITH_RSA, tlv(0x03, bits));
  return { certPem: toPem("CERTIFICATE", der), keyPem: toPem("PRIVATE KEY", pkcs8), der };
}
