/**
 * Masking a byte stream as it flows (the output of `run`'s command): every registered form
 * of every secret becomes {@linkcode MASK}, also when a value arrives split across writes.
 * Bytes are carried one character each (the `x-user-defined` decoding), so output that is
 * not UTF-8 passes through unchanged and the secrets' forms are matched as UTF-8 bytes.
 *
 * What is not yet decided is held back: the last `maxLength - 1` bytes, which may be the
 * start of a value. After {@linkcode FLUSH_MS} the held bytes are written too, except a
 * tail that really begins a registered form, so prompts and progress bars still show.
 *
 * @module
 */

import { MASK, Redactor } from "./redact.ts";

export { MASK };

/** How long held-back output may wait for more before it is written. */
export const FLUSH_MS = 100;

const bytesAsText = new TextDecoder("x-user-defined");
const utf8 = new TextEncoder();

/** Bytes as one character each (0x00–0x7f as themselves, 0x80–0xff as U+F780–U+F7FF). */
export function byteText(bytes: Uint8Array): string {
  return bytesAsText.decode(bytes);
}

/** The bytes of a {@linkcode byteText} string. */
export function textBytes(text: string): Uint8Array {
  // ASCII (most output) is its own UTF-8, encoded natively several times faster than the
  // loop below; any other character would take two or more UTF-8 bytes.
  const ascii = utf8.encode(text);
  if (ascii.length === text.length) return ascii;
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out[i] = code < 0x80 ? code : code - 0xf700;
  }
  return out;
}

/** The forms of `redactor` as UTF-8 bytes, for masking byte streams (compute it once). */
export function byteRedactor(redactor: Redactor): Redactor {
  return redactor.mapped((form) => byteText(utf8.encode(form)));
}

/** Options of {@linkcode MaskStream}. */
export interface MaskStreamOptions {
  /** The secrets' forms as bytes ({@linkcode byteRedactor}). */
  redactor: Redactor;
  /** Where masked bytes go; resolves when they are written. */
  write(bytes: Uint8Array): Promise<void>;
  /** How long held-back output may wait (default {@linkcode FLUSH_MS}). */
  flushMs?: number;
}

/**
 * A masking pipe: {@linkcode MaskStream.push} each chunk as it arrives, then
 * {@linkcode MaskStream.end}. At most one chunk plus `maxLength - 1` bytes are held.
 *
 * @example
 * ```ts ignore
 * const mask = new MaskStream({ redactor: byteRedactor(redactor), write });
 * for await (const chunk of child.stdout) await mask.push(chunk);
 * await mask.end();
 * ```
 */
export class MaskStream {
  #redactor: Redactor;
  #write: (bytes: Uint8Array) => Promise<void>;
  #flushMs: number;
  #pending = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #failure: unknown;

  /** A pipe writing masked output to `options.write`. */
  constructor(options: MaskStreamOptions) {
    this.#redactor = options.redactor;
    this.#write = options.write;
    this.#flushMs = options.flushMs ?? FLUSH_MS;
  }

  /** Take one chunk; resolves once what can be decided is written (backpressure). */
  async push(chunk: Uint8Array): Promise<void> {
    this.#pending += byteText(chunk);
    const keep = Math.max(0, this.#redactor.maxLength - 1);
    this.#emitHead(this.#pending.length - keep);
    if (this.#pending.length > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#flushOpen(), this.#flushMs);
    }
    await this.#drain();
  }

  /** The stream ended: mask and write everything held. */
  async end(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#emitHead(this.#pending.length);
    await this.#drain();
  }

  /** Stop the flush timer without writing what is held (the sink failed). */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = "";
  }

  /** Write what is held except a tail that begins a registered form. */
  #flushOpen(): void {
    this.#timer = undefined;
    this.#emitHead(this.#pending.length - this.#redactor.openTail(this.#pending));
    // The write's outcome is awaited by the next push or end.
  }

  #emitHead(end: number): void {
    if (end <= 0) return;
    const head = this.#redactor.redactHead(this.#pending, end);
    this.#pending = this.#pending.slice(head.used);
    if (head.text.length === 0) return;
    const bytes = textBytes(head.text);
    this.#queue = this.#queue.then(() => this.#failure ? undefined : this.#write(bytes)).catch(
      (error) => {
        this.#failure ??= error;
      },
    );
  }

  async #drain(): Promise<void> {
    await this.#queue;
    if (this.#failure !== undefined) throw this.#failure;
  }
}

/**
 * Copy `source` to `write` through a {@linkcode MaskStream}, chunk by chunk. When writing
 * fails (the reader of the output went away) the source is cancelled and the error thrown.
 */
export async function pipeMasked(
  source: ReadableStream<Uint8Array>,
  options: MaskStreamOptions,
): Promise<void> {
  const mask = new MaskStream(options);
  const reader = source.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      await mask.push(value);
    }
    await mask.end();
  } catch (error) {
    mask.cancel();
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}
