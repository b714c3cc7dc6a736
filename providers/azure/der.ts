/**
 * Just enough DER (ASN.1) encoding to wrap a PKCS#1 RSA key as PKCS#8, and PEM framing.
 *
 * @module
 */

/** Encode one DER element: tag, definite length, contents. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const head: number[] = [tag];
  if (length < 0x80) {
    head.push(length);
  } else {
    const bytes: number[] = [];
    for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    head.push(0x80 | bytes.length, ...bytes);
  }
  const out = new Uint8Array(head.length + length);
  out.set(head);
  let at = head.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The DER of `rsaEncryption` (1.2.840.113549.1.1.1) with NULL parameters. */
export const RSA_ALGORITHM: Uint8Array = tlv(
  0x30,
  tlv(0x06, new Uint8Array([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01])),
  tlv(0x05),
);

/** Wrap a PKCS#1 `RSAPrivateKey` in a PKCS#8 `PrivateKeyInfo`. */
export function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array {
  return tlv(0x30, tlv(0x02, new Uint8Array([0])), RSA_ALGORITHM, tlv(0x04, pkcs1));
}

/** One PEM block. */
export interface PemBlock {
  /** The label, e.g. `CERTIFICATE`, `PRIVATE KEY`. */
  label: string;
  /** The decoded bytes. */
  der: Uint8Array;
}

/** Every PEM block in a text, in order. */
export function parsePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const match of text.matchAll(pattern)) {
    const body = match[2].replace(/[^A-Za-z0-9+/=]/g, "");
    const binary = atob(body);
    const der = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) der[i] = binary.charCodeAt(i);
    blocks.push({ label: match[1], der });
  }
  return blocks;
}

/** Frame bytes as a PEM block. */
export function toPem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
