/**
 * The redaction layer: every log line and error message passes through a
 * {@linkcode Redactor} fed with every fetched value and credential, and with their derived
 * forms (JSON leaves, lines of multi-line values, base64 and URL-encoded forms).
 *
 * @module
 */

import { escapeControl } from "./escape.ts";

/** What replaces a secret in output. */
export const MASK = "***";

/** Shortest string treated as secret; shorter ones would mask ordinary words. */
const MIN_LENGTH = 4;

/**
 * The value, each of its lines, and each JSON leaf when it is JSON — recursively, so the
 * lines of a multi-line leaf and the leaves of JSON inside a leaf count too.
 */
function plainForms(value: string, forms: Set<string>, depth: number): void {
  if (forms.has(value) && depth > 0) return;
  forms.add(value);
  if (value.includes("\n")) {
    for (const line of value.split(/\r?\n/)) forms.add(line.trim());
  } else {
    forms.add(value.trim());
  }
  if (depth >= 4) return;
  // Only objects, arrays and strings have leaves that differ from the text itself; skip
  // JSON.parse (and its exception) for everything else.
  const first = value.trimStart()[0];
  if (first !== "{" && first !== "[" && first !== '"') return;
  try {
    const parsed: unknown = JSON.parse(value);
    for (const leaf of jsonLeaves(parsed)) plainForms(leaf, forms, depth + 1);
  } catch {
    // not JSON: nothing more to derive
  }
}

/** The forms of one value that must never appear in output. */
export function derivedForms(value: string): string[] {
  const forms = new Set<string>();
  plainForms(value, forms, 0);
  for (const form of [...forms]) {
    if (form.length < MIN_LENGTH) continue;
    forms.add(encodeURIComponent(form));
    forms.add(JSON.stringify(form).slice(1, -1));
    // As log lines print it, control characters escaped (a text redacted after escaping).
    forms.add(escapeControl(form));
    const b64 = base64(form);
    forms.add(b64);
    const unpadded = b64.replace(/=+$/, "");
    forms.add(unpadded);
    forms.add(unpadded.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return [...forms].filter((form) => form.length >= MIN_LENGTH);
}

function* jsonLeaves(value: unknown): Generator<string> {
  if (value === null || value === undefined) return;
  if (typeof value === "object") {
    for (const child of Object.values(value as Record<string, unknown>)) yield* jsonLeaves(child);
  } else {
    yield String(value);
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function base64(text: string): string {
  // ASCII text is its own UTF-8 encoding: btoa takes it as is.
  if (isAscii(text)) return btoa(text);
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Masks registered secrets in text.
 *
 * @example
 * ```ts
 * const redactor = new Redactor();
 * redactor.add("hunter2-password");
 * redactor.redact("login with hunter2-password failed"); // "login with *** failed"
 * ```
 */
export class Redactor {
  #forms = new Set<string>();
  /**
   * The lengths of the forms starting with each {@linkcode MIN_LENGTH} characters, longest
   * first: one small array per prefix (forms themselves are only in `#forms`), so 10,000
   * secrets cost a few MB.
   */
  #index: Map<string, number[]> | null = null;

  /** Register a secret value; its derived forms are registered too. */
  add(value: unknown): void {
    if (value === null || value === undefined) return;
    if (typeof value === "object") {
      for (const leaf of jsonLeaves(value)) this.add(leaf);
      return;
    }
    for (const form of derivedForms(String(value))) {
      if (this.#forms.has(form)) continue;
      this.#forms.add(form);
      if (this.#index) insert(this.#index, form);
    }
  }

  /** How many forms are registered. */
  get size(): number {
    return this.#forms.size;
  }

  /**
   * Replace every registered form in `text` with {@linkcode MASK}: one pass over the
   * text, taking the longest form that starts at each position, so the cost follows the
   * length of the text, not the number of secrets.
   */
  redact(text: string): string {
    if (this.#forms.size === 0 || text.length < MIN_LENGTH) return text;
    if (this.#index === null) {
      this.#index = new Map();
      for (const form of this.#forms) insert(this.#index, form);
    }
    let out = "";
    let done = 0;
    let i = 0;
    while (i + MIN_LENGTH <= text.length) {
      const lengths = this.#index.get(text.slice(i, i + MIN_LENGTH));
      const length = lengths?.find((n) =>
        i + n <= text.length && this.#forms.has(text.slice(i, i + n))
      );
      if (length === undefined) {
        i++;
        continue;
      }
      out += text.slice(done, i) + MASK;
      i += length;
      done = i;
    }
    return done === 0 ? text : out + text.slice(done);
  }
}

function insert(index: Map<string, number[]>, form: string): void {
  const key = form.slice(0, MIN_LENGTH);
  const lengths = index.get(key);
  if (!lengths) index.set(key, [form.length]);
  else if (!lengths.includes(form.length)) {
    lengths.push(form.length);
    lengths.sort((a, b) => b - a);
  }
}
