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
 * How many levels of JSON text inside a JSON leaf are followed. Each level escapes the
 * quotes of the one inside it, doubling their backslashes, so real values stop far short.
 */
const MAX_DEPTH = 8;

/** The lines of a value (trimmed), and the value itself. */
function addLines(value: string, forms: Set<string>): void {
  forms.add(value);
  if (value.includes("\n")) {
    for (const line of value.split(/\r?\n/)) forms.add(line.trim());
  } else {
    forms.add(value.trim());
  }
}

/** The JSON a text holds, or undefined (only objects, arrays and strings have leaves). */
function parseJson(value: string): unknown {
  const first = value.trimStart()[0];
  // Skip JSON.parse (and its exception) for everything that cannot be an object, an
  // array or a string.
  if (first !== "{" && first !== "[" && first !== '"') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/**
 * The value, each of its lines, and each JSON leaf when it is JSON — recursively, so the
 * lines of a multi-line leaf and the leaves of JSON inside a leaf count too. Past
 * {@linkcode MAX_DEPTH} levels the leaves are still registered (as text), and `onLimit`
 * is told that JSON nested deeper still was not followed.
 */
function plainForms(
  value: string,
  forms: Set<string>,
  depth: number,
  onLimit: () => void,
): void {
  if (forms.has(value) && depth > 0) return;
  addLines(value, forms);
  const parsed = parseJson(value);
  if (parsed === undefined || typeof parsed !== "object" && typeof parsed !== "string") return;
  for (const leaf of jsonLeaves(parsed)) {
    if (depth + 1 < MAX_DEPTH) {
      plainForms(leaf, forms, depth + 1, onLimit);
    } else {
      addLines(leaf, forms);
      if (parseJson(leaf) !== undefined) onLimit();
    }
  }
}

function hex(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) out += byte.toString(16).padStart(2, "0");
  return out;
}

/**
 * The forms of one value that must never appear in output: the value, its lines and JSON
 * leaves, and for each their URL-encodings (`%20` and `+` for spaces, and with `!'()*`
 * encoded too), JSON escaping, control characters escaped as log lines print them,
 * base64, base64url and hex. `onLimit` is called when JSON nested too deep was not
 * followed (its leaves are registered as text all the same).
 */
export function derivedForms(value: string, onLimit: () => void = () => {}): string[] {
  const forms = new Set<string>();
  plainForms(value, forms, 0, onLimit);
  for (const form of [...forms]) {
    if (form.length < MIN_LENGTH) continue;
    const uri = encodeURIComponent(form);
    forms.add(uri);
    // RFC 3986 strict (Python's quote), then with + for spaces (quote_plus).
    const strict = uri.replace(
      /[!'()*]/g,
      (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
    );
    forms.add(strict);
    forms.add(strict.replaceAll("%20", "+"));
    // application/x-www-form-urlencoded, as URLSearchParams and HTML forms send it.
    forms.add(new URLSearchParams([["", form]]).toString().slice(1));
    const hexForm = hex(form);
    forms.add(hexForm);
    forms.add(hexForm.toUpperCase());
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

/** Every leaf of parsed JSON as text, depth first, with an explicit stack (any depth). */
function* jsonLeaves(value: unknown): Generator<string> {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || node === undefined) continue;
    if (typeof node === "object") {
      const children = Object.values(node as Record<string, unknown>);
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    } else {
      yield String(node);
    }
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
  #onWarning: (message: string) => void;
  #warned = false;
  /**
   * The lengths of the forms starting with each {@linkcode MIN_LENGTH} characters, longest
   * first: one small array per prefix (forms themselves are only in `#forms`), so 10,000
   * secrets cost a few MB.
   */
  #index: Map<string, number[]> | null = null;

  /**
   * Create a redactor. `onWarning` is told (once) when a value held JSON nested deeper than
   * the redactor follows: what it could find is masked, but not necessarily every form.
   */
  constructor(onWarning: (message: string) => void = () => {}) {
    this.#onWarning = onWarning;
  }

  /** Register a secret value; its derived forms are registered too. */
  add(value: unknown): void {
    if (value === null || value === undefined) return;
    if (typeof value === "object") {
      for (const leaf of jsonLeaves(value)) this.add(leaf);
      return;
    }
    const onLimit = () => {
      if (this.#warned) return;
      this.#warned = true;
      this.#onWarning(
        `a value holds JSON nested more than ${MAX_DEPTH} levels deep inside JSON text; its leaves are masked as text, but forms of the deeper JSON may not be`,
      );
    };
    for (const form of derivedForms(String(value), onLimit)) {
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
