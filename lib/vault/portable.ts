/**
 * YAML that every common reader reads back the same: YAML 1.2 (`yaml`, most modern
 * parsers) and YAML 1.1 (PyYAML `safe_load`, Ruby's Psych, older Go and Java readers).
 *
 * YAML 1.1 re-types plain scalars that 1.2 keeps as strings (`no`, `on`, `y`, `12:30:45`,
 * `1_000`, `0b101`, `2001-12-14`), has two extra tags on plain `=` and `<<`, and treats NEL,
 * U+2028 and U+2029 as line breaks; PyYAML refuses a file holding other non-printable
 * characters. So a string is written plain only when it is made of ordinary characters and
 * no reader of either version would resolve it to anything but a string; a multi-line
 * string of printable characters as a literal block; anything else double-quoted with every
 * character outside the printable set escaped. Numbers are written in forms both versions
 * read as the same number (`1e+21` becomes `1.0e+21`, `0o17` becomes `15`). The rule is in
 * docs/reading-the-vault.md.
 *
 * @module
 */

import type { Scalar, ScalarTag, Tags } from "./yaml.ts";

type Stringify = NonNullable<ScalarTag["stringify"]>;
type Context = Parameters<Stringify>[1];

const STR = "tag:yaml.org,2002:str";
const INT = "tag:yaml.org,2002:int";
const FLOAT = "tag:yaml.org,2002:float";

/** Strings some YAML 1.1 or 1.2 reader resolves to a boolean or null (any letter case). */
const KEYWORD = /^(?:y|n|yes|no|true|false|on|off|null|~)$/i;

/**
 * Strings some YAML 1.1 or 1.2 reader resolves to a number or a timestamp: every int,
 * float, sexagesimal, binary, octal, hex, infinity, NaN and date form of either version,
 * written more broadly than the specs (quoting a string needlessly is harmless).
 */
const NUMERIC: readonly RegExp[] = [
  /^[-+]?[0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9_]*)?$/,
  /^[-+]?0[bBoOxX][0-9a-fA-F_]*$/,
  /^[-+]?[0-9][0-9_]*(?::[0-9_]*)+(?:\.[0-9_]*)?$/,
  /^[-+]?\.(?:inf|nan)$/i,
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:$|[Tt \t])/,
];

/**
 * Characters of a plain scalar: letters, marks, digits and a few punctuation marks no
 * reader treats as syntax inside a scalar. No `#`, no flow indicators, no tabs.
 */
const PLAIN_CHARS = /^[\p{L}\p{M}\p{N}_\-./+@=;()$^~*&!%?'"<>|` :]+$/u;

/** First characters a plain scalar may start with (no indicator, sign or dot). */
const PLAIN_START = /^[\p{L}\p{N}_/$(]/u;

/**
 * The same two rules for ASCII text, which is most of a vault: the Unicode classes above
 * cost a millisecond or two to compile on first use, on the start-up path of every load.
 */
const ASCII_PLAIN_CHARS = /^[A-Za-z0-9_\-./+@=;()$^~*&!%?'"<>|` :]+$/;
const ASCII_PLAIN_START = /^[A-Za-z0-9_/$(]/;
const ASCII = /^[^\u0080-\uffff]*$/;

/**
 * Characters written raw inside quotes or a literal block: printable in both YAML
 * versions and in PyYAML's reader, and never a line break to YAML 1.1 (so no NEL, U+2028,
 * U+2029), nor a byte order mark, nor a lone surrogate.
 */
const PRINTABLE =
  /^[\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]$/u;

/** Whether a string is made of plain-scalar characters and starts with one that may start it. */
export function hasPlainCharacters(value: string): boolean {
  return ASCII.test(value)
    ? ASCII_PLAIN_CHARS.test(value) && ASCII_PLAIN_START.test(value)
    : PLAIN_CHARS.test(value) && PLAIN_START.test(value);
}

/** Whether a string can be written as a plain scalar that every reader reads as itself. */
export function isPortablePlain(value: string, key = false, inFlow = false): boolean {
  if (!hasPlainCharacters(value)) return false;
  if (value.endsWith(" ") || value.includes(": ") || value.endsWith(":")) return false;
  if ((key || inFlow) && value.includes(":")) return false;
  if (KEYWORD.test(value)) return false;
  return !NUMERIC.some((pattern) => pattern.test(value));
}

/** Whether a multi-line string can be a literal block every reader reads back exactly. */
export function isPortableBlock(value: string): boolean {
  if (!value.includes("\n") || value.trim() === "") return false;
  for (const char of value) if (char !== "\n" && !PRINTABLE.test(char)) return false;
  return true;
}

/** Whether every character of a single-line string may be written raw inside quotes. */
function isPrintableLine(value: string): boolean {
  for (const char of value) if (!PRINTABLE.test(char)) return false;
  return true;
}

const ESCAPES: Record<string, string> = {
  "\0": "\\0",
  "\t": "\\t",
  "\n": "\\n",
  "\r": "\\r",
  '"': '\\"',
  "\\": "\\\\",
};

/**
 * A double-quoted scalar on one line: `"` and `\` escaped, and every character outside
 * the printable set as an escape both YAML versions define (`\xXX`, `\uXXXX`, `\UXXXXXXXX`).
 */
export function doubleQuoted(value: string): string {
  let out = '"';
  for (const char of value) {
    const escape = ESCAPES[char];
    if (escape !== undefined) {
      out += escape;
    } else if (PRINTABLE.test(char)) {
      out += char;
    } else {
      const code = char.codePointAt(0)!;
      const hex = code.toString(16).toUpperCase();
      out += code < 0x100
        ? `\\x${hex.padStart(2, "0")}`
        : code < 0x10000
        ? `\\u${hex.padStart(4, "0")}`
        : `\\U${hex.padStart(8, "0")}`;
    }
  }
  return `${out}"`;
}

function portableString(original: Stringify): Stringify {
  return (item: Scalar, ctx: Context, onComment, onChompKeep) => {
    const value = String(item.value);
    const key = ctx.implicitKey === true;
    const quoteValues = !key && ctx.options.defaultStringType === "QUOTE_DOUBLE";
    // A quoting style chosen by hand is kept when it needs no escapes; double quotes are
    // always ours, so a value reads and writes the same with or without `yaml`.
    if (!quoteValues && isPrintableLine(value)) {
      if (item.type === "QUOTE_SINGLE") return original(item, ctx, onComment, onChompKeep);
      if (item.type === "QUOTE_DOUBLE") return doubleQuoted(value);
    }
    if (!quoteValues && isPortablePlain(value, key, ctx.inFlow === true)) return value;
    // A block at the top level would start its lines at column 0, where `---` ends a document.
    const nested = ctx.indent !== "";
    if (!key && nested && !ctx.inFlow && !quoteValues && isPortableBlock(value)) {
      return original({ ...item, type: "BLOCK_LITERAL" } as Scalar, ctx, onComment, onChompKeep);
    }
    return doubleQuoted(value);
  };
}

/** Number text both YAML versions read as the same number. */
export function portableNumber(text: string, value: unknown): string {
  if (/^[-+]?0[oO]/.test(text)) return String(value);
  const exponent = /^([-+]?[0-9]+)(?:\.([0-9]*))?[eE]([-+]?)([0-9]+)$/.exec(text);
  if (exponent === null) return text;
  const [, whole, fraction, sign, digits] = exponent;
  return `${whole}.${fraction || "0"}e${sign || "+"}${digits}`;
}

function portableNumberTag(original: Stringify): Stringify {
  return (item, ctx, onComment, onChompKeep) =>
    portableNumber(original(item, ctx, onComment, onChompKeep), item.value);
}

const OURS = new WeakSet<object>();

/**
 * The schema's tags with portable string and number writers: pass as `customTags` to
 * `stringify`/`parseDocument`, or apply to a document's `schema.tags` before `toString`.
 * Idempotent.
 */
export function portableTags(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag !== "object" || OURS.has(tag)) return tag;
    const scalar = tag as ScalarTag;
    const original = scalar.stringify;
    if (scalar.collection !== undefined || original === undefined) return tag;
    let stringify: Stringify;
    if (scalar.tag === STR) stringify = portableString(original);
    else if (scalar.tag === INT || scalar.tag === FLOAT) stringify = portableNumberTag(original);
    else return tag;
    const replaced: ScalarTag = { ...scalar, stringify };
    OURS.add(replaced);
    return replaced;
  });
}
