/**
 * Writing whole texts to stdout and stderr. Only the read-back commands print values, and
 * only on stdout; logs and errors go to stderr through the redacting logger.
 *
 * @module
 */

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

/** Write `text` to stdout completely (no newline is added). */
export function writeStdout(text: string): void {
  writeAll(Deno.stdout, text);
}

/** Write `text` to stderr completely (no newline is added). */
export function writeStderr(text: string): void {
  writeAll(Deno.stderr, text);
}
