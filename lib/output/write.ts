/**
 * Writing command output to stdout. Only the read-back commands print values, and only
 * here: logs and errors go to stderr through the redacting logger.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Write `text` to stdout completely (no newline is added). */
export function writeStdout(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}
