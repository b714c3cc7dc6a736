/**
 * Bytes as lower-case hex: the vault's salt, the manifest's digest and the redactor's hex
 * forms all write it this way.
 *
 * @module
 */

/** `00` to `ff`, by byte. */
const HEX_BYTES: readonly string[] = Array.from(
  { length: 256 },
  (_, byte) => byte.toString(16).padStart(2, "0"),
);

/**
 * `bytes` as lower-case hex, two digits a byte.
 *
 * @example
 * ```ts
 * hexOfBytes(new Uint8Array([0, 171, 255])); // "00abff"
 * ```
 */
export function hexOfBytes(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += HEX_BYTES[byte];
  return out;
}

/**
 * The lower-case hex of `text`'s UTF-8 bytes (a lone surrogate as U+FFFD's, as a UTF-8
 * encoder writes it).
 *
 * @example
 * ```ts
 * hexOfText("é!"); // "c3a921"
 * ```
 */
export function hexOfText(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // ASCII is its own UTF-8; the rest goes through the encoder.
    if (code > 0x7f) return out + hexOfBytes(new TextEncoder().encode(text.slice(i)));
    out += HEX_BYTES[code];
  }
  return out;
}
