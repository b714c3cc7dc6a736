/**
 * The vault in the form this tool writes it, read and written without the `yaml` package.
 *
 * Almost every vault on disk was written by this tool: block mappings indented by two
 * spaces, keys and values written by `portable.ts`'s rules, no comments. Reading and
 * writing that form directly skips loading the `yaml` package (the longest step of a
 * load's start-up) and its node-per-value document, which a large vault makes the biggest
 * thing in memory.
 *
 * {@linkcode parseCanonical} accepts a text only when {@linkcode renderCanonical} gives it
 * back byte for byte from what was read, and the renderer writes exactly what `yaml` writes
 * for the same data with the portable tags (`tests/canonical_test.ts` checks both against
 * `yaml` on generated vaults). So a text read here means what `yaml` would read, and
 * anything else (comments, other quoting, flow style, anchors, a hand-written layout) goes
 * to the `yaml` package unchanged.
 *
 * @module
 */

import { doubleQuoted, isPortableBlock, isPortablePlain, portableNumber } from "./portable.ts";

/** A value of the canonical vault: a leaf, or a mapping in key order. */
export type CanonicalNode = string | number | boolean | CanonicalMap;

/**
 * A mapping of the canonical vault, in key order: a plain object while its keys keep their
 * order in one, a `Map` once it holds a key an object would move (an array index such as
 * `1`) or treat specially (`__proto__`). A one-key object is a fifth of a one-key `Map`,
 * and a vault of 100,000 secrets in folders holds 100,000 of them.
 */
export type CanonicalMap = Map<string, CanonicalNode> | CanonicalRecord;

/** A mapping kept as a plain object (see {@linkcode CanonicalMap}). */
export interface CanonicalRecord {
  [key: string]: CanonicalNode;
}

/** Whether a node is a mapping. */
export function isMapping(node: CanonicalNode | undefined): node is CanonicalMap {
  return typeof node === "object";
}

/** A new, empty mapping. */
export function newMapping(): CanonicalMap {
  return {};
}

/** Keys a plain object would not keep in insertion order, or would not store as data. */
function movedByObject(key: string): boolean {
  return key === "__proto__" || (/^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < 4294967295);
}

/** The value at `key` (own keys only). */
export function mappingGet(map: CanonicalMap, key: string): CanonicalNode | undefined {
  if (map instanceof Map) return map.get(key);
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/**
 * Set `key`; an existing key keeps its place, a new one goes last. Returns the mapping to
 * keep: `map` itself, or a `Map` holding its keys when `key` needs one.
 */
export function mappingSet(map: CanonicalMap, key: string, value: CanonicalNode): CanonicalMap {
  if (map instanceof Map) return map.set(key, value);
  if (!Object.hasOwn(map, key) && movedByObject(key)) {
    return new Map<string, CanonicalNode>(Object.entries(map)).set(key, value);
  }
  map[key] = value;
  return map;
}

/** Every key, in order. */
export function mappingKeys(map: CanonicalMap): Iterable<string> {
  return map instanceof Map ? map.keys() : Object.keys(map);
}

/** Whether the mapping has no key. */
export function mappingEmpty(map: CanonicalMap): boolean {
  if (map instanceof Map) return map.size === 0;
  for (const _ in map) return false;
  return true;
}

/** What `yaml` writes for an empty vault (see `renderVault`). */
const EMPTY = "{}\n";

/** `yaml` writes a key over this many characters as an explicit `? key` entry. */
const MAX_IMPLICIT_KEY = 1024;

/** Number text as `JSON.stringify` and then `portableNumber` write it. */
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:e[-+][0-9]+)?$/;

/** Every indentation the parser meets, built once per depth. */
const indents: string[] = [""];

function indentOf(depth: number): string {
  while (indents.length <= depth) indents.push(`${indents[indents.length - 1]}  `);
  return indents[depth];
}

/**
 * A string value as a literal block (`|` or `|-`), as `yaml` writes it at `indent`, or null
 * for the forms this module leaves to `yaml` (a keep or indentation indicator, or trailing
 * white space on the last line).
 */
function literalBlock(value: string, indent: string): string | null {
  const first = value[0];
  if (first === " " || first === "\n") return null;
  let body = value;
  let header = "-";
  if (value.endsWith("\n")) {
    body = value.slice(0, -1);
    header = "";
  }
  const last = body[body.length - 1];
  if (last === undefined || last === "\n" || last === " " || last === "\t") return null;
  return `|${header}\n${indent}${body.replace(/\n+/g, `$&${indent}`)}`;
}

/** A leaf as `yaml` writes it as a mapping value at `indent`, or null when left to `yaml`. */
function renderLeaf(value: string | number | boolean, indent: string): string | null {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return null;
    if (Object.is(value, -0)) return "-0";
    return portableNumber(JSON.stringify(value), value);
  }
  if (isPortablePlain(value)) return value;
  if (isPortableBlock(value)) return literalBlock(value, indent);
  return doubleQuoted(value);
}

/**
 * The text `yaml` writes for `root` (block style, two-space indentation, no line width,
 * portable tags), or null when `root` holds something this module leaves to `yaml`.
 *
 * @example
 * ```ts
 * renderCanonical({ A: { B: "x" } }); // "A:\n  B: x\n"
 * ```
 */
export function renderCanonical(root: CanonicalMap): string | null {
  if (mappingEmpty(root)) return EMPTY;
  const lines: string[] = [];
  const walk = (map: CanonicalMap, depth: number): boolean => {
    const indent = indentOf(depth);
    for (const key of mappingKeys(map)) {
      const value = mappingGet(map, key)!;
      const name = isPortablePlain(key, true) ? key : doubleQuoted(key);
      if (name.length > MAX_IMPLICIT_KEY) return false;
      if (isMapping(value)) {
        if (mappingEmpty(value)) {
          lines.push(`${indent}${name}: {}`);
        } else {
          lines.push(`${indent}${name}:`);
          if (!walk(value, depth + 1)) return false;
        }
        continue;
      }
      const text = renderLeaf(value, indentOf(depth + 1));
      if (text === null) return false;
      lines.push(`${indent}${name}: ${text}`);
    }
    return true;
  };
  return walk(root, 0) ? `${lines.join("\n")}\n` : null;
}

const ESCAPED: Record<string, string> = {
  "0": "\0",
  "t": "\t",
  "n": "\n",
  "r": "\r",
  '"': '"',
  "\\": "\\",
};
const HEX_DIGITS: Record<string, number> = { x: 2, u: 4, U: 8 };

/**
 * The double-quoted scalar starting at `line[start]`: its value and the index after its
 * closing quote, or null for an escape `doubleQuoted` never writes.
 */
function readQuoted(line: string, start: number): { value: string; end: number } | null {
  let value = "";
  let i = start + 1;
  while (i < line.length) {
    const next = line.indexOf('"', i);
    const escape = line.indexOf("\\", i);
    if (next < 0) return null;
    if (escape < 0 || next < escape) {
      return { value: value + line.slice(i, next), end: next + 1 };
    }
    value += line.slice(i, escape);
    const kind = line[escape + 1];
    const simple = ESCAPED[kind];
    if (simple !== undefined) {
      value += simple;
      i = escape + 2;
      continue;
    }
    const digits = HEX_DIGITS[kind];
    if (digits === undefined) return null;
    const hex = line.slice(escape + 2, escape + 2 + digits);
    if (!/^[0-9A-F]+$/.test(hex) || hex.length !== digits) return null;
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) return null;
    value += String.fromCodePoint(code);
    i = escape + 2 + digits;
  }
  return null;
}

/**
 * Read a vault in the canonical form: its data, or null when `text` is in any other form
 * (then read it with `yaml`). Never throws.
 *
 * @example
 * ```ts
 * parseCanonical("A:\n  B: x\n"); // { A: { B: "x" } }
 * parseCanonical("A: x # note\n"); // null: a comment is left to `yaml`
 * ```
 */
export function parseCanonical(text: string): CanonicalMap | null {
  if (text === EMPTY) return newMapping();
  if (text === "" || !text.endsWith("\n")) return null;
  // Mappings open at each depth, and the key each has in the one above; `open` is set
  // after `KEY:` with nothing after it.
  const stack: CanonicalMap[] = [newMapping()];
  const keys: string[] = [""];
  // Set `key` in the mapping at `depth`; one that becomes a `Map` replaces it above.
  const put = (depth: number, key: string, value: CanonicalNode) => {
    const map = stack[depth];
    const kept = mappingSet(map, key, value);
    if (kept !== map) {
      stack[depth] = kept;
      if (depth > 0) mappingSet(stack[depth - 1], keys[depth], kept);
    }
  };
  let open = false;
  let pos = 0;
  const end = text.length;
  while (pos < end) {
    const eol = text.indexOf("\n", pos);
    const line = text.slice(pos, eol);
    pos = eol + 1;
    let spaces = 0;
    while (line.charCodeAt(spaces) === 32) spaces++;
    if (spaces % 2 !== 0 || spaces === line.length) return null;
    const depth = spaces / 2;
    if (open ? depth !== stack.length - 1 : depth >= stack.length) return null;
    open = false;
    stack.length = depth + 1;
    keys.length = depth + 1;
    const map = stack[depth];
    let key: string;
    let at: number;
    if (line[spaces] === '"') {
      const quoted = readQuoted(line, spaces);
      if (quoted === null) return null;
      key = quoted.value;
      at = quoted.end;
    } else {
      at = line.indexOf(":", spaces);
      if (at < 0) return null;
      key = line.slice(spaces, at);
      if (!isPortablePlain(key, true)) return null;
    }
    if (line[at] !== ":" || mappingGet(map, key) !== undefined) return null;
    if (at + 1 === line.length) {
      const child = newMapping();
      put(depth, key, child);
      stack.push(child);
      keys.push(key);
      open = true;
      continue;
    }
    if (line[at + 1] !== " ") return null;
    const rest = line.slice(at + 2);
    if (rest === "{}") {
      put(depth, key, newMapping());
    } else if (rest === "true" || rest === "false") {
      put(depth, key, rest === "true");
    } else if (rest === "|" || rest === "|-") {
      const indent = indentOf(depth + 1);
      const body: string[] = [];
      while (pos < end) {
        const next = text.indexOf("\n", pos);
        const content = text.slice(pos, next);
        if (content !== "" && !content.startsWith(indent)) break;
        body.push(content.slice(indent.length));
        pos = next + 1;
      }
      if (body.length === 0) return null;
      put(depth, key, body.join("\n") + (rest === "|" ? "\n" : ""));
    } else if (rest[0] === '"') {
      const quoted = readQuoted(rest, 0);
      if (quoted === null || quoted.end !== rest.length) return null;
      put(depth, key, quoted.value);
    } else if (NUMBER.test(rest)) {
      put(depth, key, Number(rest));
    } else if (isPortablePlain(rest)) {
      put(depth, key, rest);
    } else {
      return null;
    }
  }
  if (open) return null;
  // The proof that this text means what `yaml` reads: it is what we would write for it.
  const root = stack[0];
  return renderCanonical(root) === text ? root : null;
}
