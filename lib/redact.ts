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
  for (const line of value.split(/\r?\n/)) forms.add(line.trim());
  if (depth >= 4) return;
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
    forms.add(b64.replace(/=+$/, ""));
    forms.add(b64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, ""));
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

function base64(text: string): string {
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
  #sorted: string[] | null = [];

  /** Register a secret value; its derived forms are registered too. */
  add(value: unknown): void {
    if (value === null || value === undefined) return;
    if (typeof value === "object") {
      for (const leaf of jsonLeaves(value)) this.add(leaf);
      return;
    }
    for (const form of derivedForms(String(value))) {
      if (!this.#forms.has(form)) {
        this.#forms.add(form);
        this.#sorted = null;
      }
    }
  }

  /** How many forms are registered. */
  get size(): number {
    return this.#forms.size;
  }

  /** Replace every registered form in `text` with {@linkcode MASK}, longest first. */
  redact(text: string): string {
    if (this.#forms.size === 0) return text;
    if (this.#sorted === null) {
      this.#sorted = [...this.#forms].sort((a, b) => b.length - a.length);
    }
    let out = text;
    for (const form of this.#sorted) {
      if (out.includes(form)) out = out.replaceAll(form, MASK);
    }
    return out;
  }
}
