/**
 * The redaction layer: every log line and error message passes through a
 * {@linkcode Redactor} fed with every fetched value and credential, and with their derived
 * forms (JSON leaves, lines of multi-line values, base64 and URL-encoded forms).
 *
 * @module
 */

import { hexOfText } from "../kit/hex.ts";
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

/**
 * `text` as `application/x-www-form-urlencoded` writes it (what `URLSearchParams` does):
 * `encodeURIComponent` of its well-formed form, with `!'()~` escaped too and a space as `+`.
 *
 * @example
 * ```ts
 * formEncoded("a b~(c)"); // "a+b%7E%28c%29"
 * ```
 */
export function formEncoded(text: string): string {
  return encodeURIComponent(text.toWellFormed())
    .replace(/[!'()~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
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
    // Encoders see a lone surrogate as U+FFFD (encodeURIComponent would throw on it).
    const uri = encodeURIComponent(form.toWellFormed());
    forms.add(uri);
    // RFC 3986 encoders (Python's quote, Go's url.QueryEscape) also escape !'()*, and form
    // encoding writes a space as + (quote_plus).
    const strict = uri.replace(
      /[!'()*]/g,
      (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
    );
    forms.add(strict);
    forms.add(strict.replaceAll("%20", "+"));
    // application/x-www-form-urlencoded, as URLSearchParams and HTML forms send it.
    forms.add(formEncoded(form));
    // Lower case only: upper-case hex is found by folding the text (`Redactor.redactHead`),
    // which spares 100,000 values as many forms again.
    forms.add(hexOfText(form));
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
   * The forms by their first {@linkcode MIN_LENGTH} characters (see {@linkcode Bucket});
   * built on the first {@linkcode redact}. Forms are shared with `#forms`, so the index
   * costs about one reference per form.
   */
  #index: Map<string, Bucket> | null = null;
  /**
   * A filter over the first two characters of every form (a hash of them), so most
   * positions of a text are passed without slicing it or looking up the index.
   */
  #starts = new Uint8Array(STARTS_SIZE);
  #maxLength = 0;

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
    for (const form of derivedForms(String(value), onLimit)) this.#register(form);
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
    // Hex forms are registered in lower case: inside a run of hex digits that holds an
    // upper-case letter, a position is also looked up in the run folded to lower case (a
    // match there lies within the run, so it is all hex digits). Other text pays one scan.
    const runs = upperHexRuns(text);
    if (runs.length === 0) {
      // The usual case, one table probe per position; each character is read once.
      const last = text.length - MIN_LENGTH;
      let next = text.charCodeAt(0);
      while (i < stop && i <= last) {
        const first = next;
        next = text.charCodeAt(i + 1);
        if (starts[((first * 31) ^ next) & (STARTS_SIZE - 1)] === 0) {
          i++;
          continue;
        }
        const length = longestFormAt(this.#index, this.#forms, text, i);
        if (length > 0) {
          out += text.slice(done, i) + MASK;
          done = i + length;
          next = text.charCodeAt(done);
        }
        i += Math.max(length, 1);
      }
      return masked(text, out, done, Math.max(i, stop));
    }
    let run = 0;
    let folded = "";
    while (i < stop && i + MIN_LENGTH <= text.length) {
      while (run < runs.length && runs[run + 1] - MIN_LENGTH < i) {
        run += 2;
        folded = "";
      }
      const inRun = run < runs.length && runs[run] <= i;
      const filtered = starts[startHash(text, i)] === 0;
      if (filtered && !inRun) {
        i++;
        continue;
      }
      let length = filtered ? 0 : longestFormAt(this.#index, this.#forms, text, i);
      if (inRun) {
        if (folded === "") folded = foldHex(text.slice(runs[run], runs[run + 1]));
        const at = i - runs[run];
        if (starts[startHash(folded, at)] !== 0) {
          length = Math.max(length, longestFormAt(this.#index, this.#forms, folded, at));
        }
      }
      if (length === 0) {
        i++;
        continue;
      }
      out += text.slice(done, i) + MASK;
      i += length;
      done = i;
    }
    return masked(text, out, done, Math.max(i, stop));
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
    // Upper-case hex may begin a (lower-case) hex form: compare the folded text too.
    const folded = foldHex(text);
    for (const form of this.#forms) {
      const first = form.charCodeAt(0);
      const from = Math.max(0, text.length - form.length + 1);
      work += text.length - from;
      for (let j = from; j < text.length - best; j++) {
        if (text.charCodeAt(j) !== first && folded.charCodeAt(j) !== first) continue;
        work += text.length - j;
        if (form.startsWith(text.slice(j)) || form.startsWith(folded.slice(j))) {
          best = text.length - j;
          break;
        }
      }
      if (work > OPEN_TAIL_BUDGET) return text.length;
    }
    return best;
  }
}

/** What `redactHead` gives: `out` (masked up to `done`), the rest of `text` up to `used`. */
function masked(
  text: string,
  out: string,
  done: number,
  used: number,
): { text: string; used: number } {
  if (done === 0) return { text: used === text.length ? text : text.slice(0, used), used };
  return { text: out + text.slice(done, used), used };
}

/** Character comparisons {@linkcode Redactor.openTail} may spend (a few ms). */
export const OPEN_TAIL_BUDGET = 4_000_000;

const STARTS_SIZE = 1 << 16;

/** `text` with A-F as a-f (same length, so positions carry over). */
function foldHex(text: string): string {
  return /[A-F]/.test(text) ? text.replace(/[A-F]+/g, (run) => run.toLowerCase()) : text;
}

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x66) ||
    (code >= 0x41 && code <= 0x46);
}

const UPPER_HEX_LETTERS = ["A", "B", "C", "D", "E", "F"];

/**
 * Runs of hex digits that hold an upper-case letter, as `[start, end, ...]`; runs shorter
 * than a form are left out. Found from the upper-case letters A-F alone (native searches),
 * so ordinary text costs little more than a search for each letter.
 */
function upperHexRuns(text: string): number[] {
  const runs: number[] = [];
  const next = UPPER_HEX_LETTERS.map((letter) => text.indexOf(letter));
  let covered = 0;
  for (;;) {
    let letter = -1;
    for (let k = 0; k < next.length; k++) {
      if (next[k] >= 0 && (letter < 0 || next[k] < next[letter])) letter = k;
    }
    if (letter < 0) return runs;
    const at = next[letter];
    next[letter] = text.indexOf(UPPER_HEX_LETTERS[letter], at + 1);
    if (at < covered) continue;
    let start = at;
    while (start > 0 && isHexDigit(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isHexDigit(text.charCodeAt(end))) end++;
    covered = end;
    if (end - start >= MIN_LENGTH) runs.push(start, end);
  }
}

function startHash(text: string, at: number): number {
  return ((text.charCodeAt(at) * 31) ^ text.charCodeAt(at + 1)) & (STARTS_SIZE - 1);
}

/**
 * The forms sharing their first {@linkcode MIN_LENGTH} characters. A lone form (most
 * prefixes) is kept as itself. Forms of a few distinct lengths ({@linkcode ByLength}) are
 * found with one hash lookup per length, and added in O(1). Beyond
 * {@linkcode MAX_LENGTHS} lengths (many values sharing a prefix) they become sorted runs
 * whose sizes fall from first to last, merged like a binary counter as forms are added, so
 * an insertion costs O(log n) amortized and a lookup a few binary searches in O(log n) runs.
 */
type Bucket = string | ByLength | string[][];

/** A bucket of forms with few distinct lengths. */
interface ByLength {
  /** The distinct lengths, longest first. */
  lengths: number[];
  /** The forms (unsorted; sorted once if the bucket becomes runs). */
  forms: string[];
}

/** Most distinct lengths a bucket checks one by one before it becomes sorted runs. */
const MAX_LENGTHS = 8;

function insert(index: Map<string, Bucket>, form: string): void {
  const key = form.slice(0, MIN_LENGTH);
  const bucket = index.get(key);
  if (bucket === undefined) {
    index.set(key, form);
    return;
  }
  if (typeof bucket === "string") {
    const lengths = bucket.length === form.length
      ? [form.length]
      : [Math.max(bucket.length, form.length), Math.min(bucket.length, form.length)];
    index.set(key, { lengths, forms: [bucket, form] });
    return;
  }
  if (!Array.isArray(bucket)) {
    bucket.forms.push(form);
    if (bucket.lengths.includes(form.length)) return;
    bucket.lengths.push(form.length);
    bucket.lengths.sort((a, b) => b - a);
    if (bucket.lengths.length > MAX_LENGTHS) index.set(key, [bucket.forms.sort()]);
    return;
  }
  bucket.push([form]);
  while (
    bucket.length > 1 && bucket[bucket.length - 2].length <= bucket[bucket.length - 1].length
  ) {
    const last = bucket.pop()!;
    bucket.push(mergeSorted(bucket.pop()!, last));
  }
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i] < b[j] ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

/**
 * The length of the longest form of `run` (sorted, every form sharing `text`'s first
 * {@linkcode MIN_LENGTH} characters at `at`) that `text` holds at `at`, or 0. Narrows the
 * range of forms that agree with the text one character deeper at a time, by binary
 * search; among forms agreeing on `depth` characters, one exactly that long sorts first.
 */
function longestAt(run: readonly string[], text: string, at: number): number {
  let lo = 0;
  let hi = run.length;
  let best = 0;
  for (let depth = MIN_LENGTH; lo < hi; depth++) {
    if (run[lo].length === depth) {
      best = depth;
      if (++lo === hi) break;
    }
    if (hi - lo === 1) {
      const form = run[lo];
      if (text.slice(at, at + form.length) === form) best = form.length;
      break;
    }
    if (at + depth >= text.length) break;
    const code = text.charCodeAt(at + depth);
    // The range's forms are all longer than `depth` here: narrow to those with `code` next.
    let a = lo;
    let b = hi;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (run[mid].charCodeAt(depth) < code) a = mid + 1;
      else b = mid;
    }
    let c = a;
    b = hi;
    while (c < b) {
      const mid = (c + b) >>> 1;
      if (run[mid].charCodeAt(depth) <= code) c = mid + 1;
      else b = mid;
    }
    lo = a;
    hi = c;
  }
  return best;
}

/** The length of the longest registered form at `text[at]`, or 0 (one bucket lookup). */
function longestFormAt(
  index: Map<string, Bucket>,
  forms: ReadonlySet<string>,
  text: string,
  at: number,
): number {
  const bucket = index.get(text.slice(at, at + MIN_LENGTH));
  if (bucket === undefined) return 0;
  if (typeof bucket === "string") {
    // A slice compared whole is far faster than startsWith on long forms.
    const end = at + bucket.length;
    return end <= text.length && text.slice(at, end) === bucket ? bucket.length : 0;
  }
  if (Array.isArray(bucket)) {
    let length = 0;
    for (const run of bucket) length = Math.max(length, longestAt(run, text, at));
    return length;
  }
  // Longest first: the first length whose slice is a form wins.
  for (const n of bucket.lengths) {
    if (at + n <= text.length && forms.has(text.slice(at, at + n))) return n;
  }
  return 0;
}
