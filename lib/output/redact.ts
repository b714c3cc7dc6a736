/**
 * The redaction layer: every log line and error message passes through a
 * {@linkcode Redactor} fed with every fetched value and credential, and with their derived
 * forms (JSON leaves, lines of multi-line values, base64 and URL-encoded forms).
 *
 * @module
 */

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
    const uri = encodeURIComponent(form);
    forms.add(uri);
    // RFC 3986 encoders (Python's quote, Go's url.QueryEscape) also escape !'()*, and form
    // encoding writes a space as +.
    const strict = uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    forms.add(strict);
    forms.add(strict.replaceAll("%20", "+"));
    const json = JSON.stringify(form).slice(1, -1);
    forms.add(json);
    // JSON writers that escape every non-ASCII character (Python's json.dumps by default).
    if (!isAscii(json)) {
      forms.add(
        json.replace(
          /[\u0080-\uffff]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
        ),
      );
    }
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
  /**
   * A filter over the first two characters of every form (a hash of them), so most
   * positions of a text are passed without slicing it or looking up the index.
   */
  #starts = new Uint8Array(STARTS_SIZE);
  #maxLength = 0;

  /** Register a secret value; its derived forms are registered too. */
  add(value: unknown): void {
    if (value === null || value === undefined) return;
    if (typeof value === "object") {
      for (const leaf of jsonLeaves(value)) this.add(leaf);
      return;
    }
    for (const form of derivedForms(String(value))) this.#register(form);
  }

  #register(form: string): void {
    if (form.length < MIN_LENGTH || this.#forms.has(form)) return;
    this.#forms.add(form);
    this.#starts[startHash(form, 0)] = 1;
    if (form.length > this.#maxLength) this.#maxLength = form.length;
    if (this.#index) insert(this.#index, form);
  }

  /**
   * A redactor holding exactly `convert(form)` for each form registered here, with nothing
   * derived again: the same secrets in another representation of text, such as raw bytes
   * as one character each for masking a byte stream.
   */
  mapped(convert: (form: string) => string): Redactor {
    const copy = new Redactor();
    for (const form of this.#forms) copy.#register(convert(form));
    return copy;
  }

  /** The length of the longest registered form (0 when none is). */
  get maxLength(): number {
    return this.#maxLength;
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
    return this.redactHead(text, text.length).text;
  }

  /**
   * Redact the start of `text` that can be decided now: every form starting before `end`
   * is masked (one may run past `end`). Returns the masked text and how many characters of
   * `text` it covers: `end`, or more when a form runs past it. A stream masks what it has
   * received less its last `maxLength - 1` characters this way, so a value split across two
   * writes is still found once the rest arrives.
   */
  redactHead(text: string, end: number): { text: string; used: number } {
    const stop = Math.min(end, text.length);
    if (this.#forms.size === 0) return { text: text.slice(0, stop), used: stop };
    if (this.#index === null) {
      this.#index = new Map();
      for (const form of this.#forms) insert(this.#index, form);
    }
    let out = "";
    let done = 0;
    let i = 0;
    const starts = this.#starts;
    while (i < stop && i + MIN_LENGTH <= text.length) {
      if (starts[startHash(text, i)] === 0) {
        i++;
        continue;
      }
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
    const used = Math.max(i, stop);
    if (done === 0) return { text: used === text.length ? text : text.slice(0, used), used };
    return { text: out + text.slice(done, used), used };
  }

  /**
   * How many characters at the end of `text` could be the start of a registered form that
   * `text` does not complete: the part a stream must hold back until more arrives. Bounded
   * work: past {@linkcode OPEN_TAIL_BUDGET} character comparisons (huge values, crafted
   * output) it answers "all of it", which only delays output, never leaks it.
   */
  openTail(text: string): number {
    let best = 0;
    let work = 0;
    for (const form of this.#forms) {
      const first = form.charCodeAt(0);
      const from = Math.max(0, text.length - form.length + 1);
      work += text.length - from;
      for (let j = from; j < text.length - best; j++) {
        if (text.charCodeAt(j) !== first) continue;
        work += text.length - j;
        if (form.startsWith(text.slice(j))) {
          best = text.length - j;
          break;
        }
      }
      if (work > OPEN_TAIL_BUDGET) return text.length;
    }
    return best;
  }
}

/** Character comparisons {@linkcode Redactor.openTail} may spend (a few ms). */
export const OPEN_TAIL_BUDGET = 4_000_000;

const STARTS_SIZE = 1 << 16;

function startHash(text: string, at: number): number {
  return ((text.charCodeAt(at) * 31) ^ text.charCodeAt(at + 1)) & (STARTS_SIZE - 1);
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
