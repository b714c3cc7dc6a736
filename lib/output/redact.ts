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
    forms.add(encodeURIComponent(form));
    forms.add(JSON.stringify(form).slice(1, -1));
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
   * The forms by their first {@linkcode MIN_LENGTH} characters (see {@linkcode Bucket});
   * built on the first {@linkcode redact}. Forms are shared with `#forms`, so the index
   * costs about one reference per form.
   */
  #index: Map<string, Bucket> | null = null;

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
   * text, taking the longest form that starts at each position. Finding it costs a map
   * lookup and a few binary searches over the forms sharing the position's first
   * characters, whatever their number and lengths, so the cost follows the length of the
   * text, not the number of secrets.
   */
  redact(text: string): string {
    const forms = this.#forms;
    if (forms.size === 0 || text.length < MIN_LENGTH) return text;
    if (this.#index === null) {
      this.#index = new Map();
      for (const form of this.#forms) insert(this.#index, form);
    }
    let out = "";
    let done = 0;
    let i = 0;
    while (i + MIN_LENGTH <= text.length) {
      const bucket = this.#index.get(text.slice(i, i + MIN_LENGTH));
      let length = 0;
      if (typeof bucket === "string") {
        if (text.startsWith(bucket, i)) length = bucket.length;
      } else if (Array.isArray(bucket)) {
        for (const run of bucket) length = Math.max(length, longestAt(run, text, i));
      } else if (bucket) {
        // Longest first: the first length whose slice is a form wins.
        for (const n of bucket.lengths) {
          if (i + n <= text.length && forms.has(text.slice(i, i + n))) {
            length = n;
            break;
          }
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
    return done === 0 ? text : out + text.slice(done);
  }
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
      if (text.startsWith(form, at)) best = form.length;
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
