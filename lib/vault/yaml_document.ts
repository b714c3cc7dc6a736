/**
 * The {@linkcode VaultDocument} of a vault read with the `yaml` package: any valid YAML
 * vault, merged in place so that comments, quoting chosen by hand and unrelated content
 * stay as they were. Loaded only for a vault not in the canonical form (`canonical.ts`).
 *
 * @module
 */

import {
  Document,
  isMap,
  isScalar,
  isSeq,
  type Node,
  Pair,
  parseDocument,
  Scalar,
  YAMLMap,
} from "./yaml.ts";
import { ToolError } from "../kit/errors.ts";
import type { VaultEntry } from "../contract/provider.ts";
import type { Located, VaultDocument } from "./document.ts";
import { type CanonicalMap, isMapping, mappingGet, mappingKeys } from "./canonical.ts";
import { portableTags } from "./portable.ts";
import { forEachLeafKey, isTree, type VaultTree } from "./tree.ts";

/**
 * Most alias expansions a vault may make (the `yaml` default). A vault of nested aliases
 * ("billion laughs") would otherwise expand a 1 KB file into gigabytes.
 */
export const MAX_ALIAS_COUNT = 100;

function invalidYaml(path: string, line: number | undefined, code: string): ToolError {
  const where = line === undefined ? "" : ` at line ${line}`;
  return new ToolError(
    "vault",
    `the vault ${path} is not valid YAML${where} (${code}); fix or remove the file, nothing was written`,
  );
}

/**
 * The offset of the first key that repeats an earlier key of the same mapping, or null.
 * One set per mapping, so O(n): `yaml`'s own `uniqueKeys` check compares every pair of
 * keys, which takes minutes on a vault with 100,000 keys in one mapping.
 */
function duplicateKeyOffset(root: unknown): number | null {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isSeq(node)) {
      stack.push(...node.items);
    } else if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        stack.push(pair.value);
        if (!isScalar(pair.key)) continue;
        const value: unknown = pair.key.value;
        const id = `${typeof value}:${String(value)}`;
        if (seen.has(id)) return pair.key.range?.[0] ?? 0;
        seen.add(id);
      }
    }
  }
  return null;
}

/** The 1-based line of a character offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * Finds pairs by key in O(1): each map's items are indexed on first use (the first pair
 * wins for a duplicated key, as a linear scan would). {@linkcode Pairs.add} keeps the
 * index in step with pairs this module appends.
 */
class Pairs {
  #indexes = new WeakMap<YAMLMap, Map<string, Pair>>();

  #index(map: YAMLMap): Map<string, Pair> {
    let index = this.#indexes.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) {
        const key = String(isScalar(item.key) ? item.key.value : item.key);
        if (!index.has(key)) index.set(key, item as Pair);
      }
      this.#indexes.set(map, index);
    }
    return index;
  }

  /** The pair of `map` whose key is `segment`. */
  find(map: YAMLMap, segment: string): Pair | undefined {
    return this.#index(map).get(segment);
  }

  /** Append `pair` (keyed `segment`) to `map`. */
  add(map: YAMLMap, segment: string, pair: Pair): void {
    // An empty `{}` that gains keys is written as a block, like every mapping we write.
    if (map.items.length === 0) map.flow = false;
    map.items.push(pair);
    const index = this.#index(map);
    if (!index.has(segment)) index.set(segment, pair);
  }
}

function rootMap(doc: Document): YAMLMap | undefined {
  const root = doc.contents;
  if (root === null || root === undefined) return undefined;
  if (isScalar(root) && (root.value === null || root.value === undefined)) return undefined;
  if (isMap(root)) return root;
  throw new ToolError(
    "vault",
    "the vault's top level is not a mapping of keys; fix the vault file",
  );
}

function locate(doc: Document, path: readonly string[], pairs: Pairs): Located {
  let map = rootMap(doc);
  if (!map) return { kind: "absent", depth: 0 };
  for (let i = 0; i < path.length; i++) {
    const pair = pairs.find(map, path[i]);
    if (!pair) return { kind: "absent", depth: i };
    const value = pair.value as Node | null;
    if (i === path.length - 1) {
      if (isMap(value)) return { kind: "map", depth: i + 1 };
      const scalar = isScalar(value);
      return { kind: "leaf", depth: i + 1, scalar, value: scalar ? value.value : undefined };
    }
    if (!isMap(value)) return { kind: "blocked", depth: i + 1 };
    map = value;
  }
  return { kind: "map", depth: path.length };
}

function apply(doc: Document, entries: readonly VaultEntry[], pairs: Pairs): void {
  let root = rootMap(doc);
  if (!root) {
    root = new YAMLMap();
    doc.contents = root;
  }
  for (const entry of entries) {
    let map = root;
    for (let i = 0; i < entry.path.length - 1; i++) {
      const pair = pairs.find(map, entry.path[i]);
      if (pair && isMap(pair.value)) {
        map = pair.value;
        continue;
      }
      const child = new YAMLMap();
      pairs.add(map, entry.path[i], new Pair(new Scalar(entry.path[i]), child));
      map = child;
    }
    const last = entry.path[entry.path.length - 1];
    // Vault values are strings, numbers and booleans: a plain Scalar is what createNode
    // would build for them (default tags), without its per-call tag lookup.
    const scalar = new Scalar(entry.value);
    const pair = pairs.find(map, last);
    if (pair) {
      const old = pair.value as Node | null;
      if (isScalar(old)) {
        scalar.comment = old.comment;
        scalar.commentBefore = old.commentBefore;
        scalar.spaceBefore = old.spaceBefore;
      }
      pair.value = scalar;
    } else {
      pairs.add(map, last, new Pair(new Scalar(last), scalar));
    }
  }
}

function toTree(doc: Document, path: string | undefined): VaultTree {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof ReferenceError && /^Excessive alias/.test(error.message)) {
      throw new ToolError(
        "vault",
        `the vault${
          path === undefined ? "" : ` ${path}`
        } expands its aliases (*name) more than ${MAX_ALIAS_COUNT} times, as a resource-exhaustion attack does; write the values out instead, nothing was written`,
      );
    }
    throw error;
  }
  return isTree(data) ? data : {};
}

function render(doc: Document): string {
  doc.schema.tags = portableTags(doc.schema.tags) as typeof doc.schema.tags;
  const text = doc.toString({ lineWidth: 0, indent: 2 });
  return text === "" || text === "\n" ? "{}\n" : text;
}

function documentOf(doc: Document, path: string | undefined): VaultDocument {
  // One index for the document's life: a merge replaces values, never keys.
  const pairs = new Pairs();
  return {
    form: "yaml",
    tree: () => toTree(doc, path),
    forEachLeafKey: (visit) => forEachLeafKey(toTree(doc, path), visit),
    locate: (segments) => locate(doc, segments, pairs),
    apply: (entries) => apply(doc, entries, pairs),
    render: () => Promise.resolve(render(doc)),
  };
}

/**
 * Parse vault text with `yaml`. Invalid YAML, and a key repeated in one mapping, is a
 * `vault` error naming the line; the root must be a mapping.
 */
export function parseYamlVault(text: string, path: string): VaultDocument {
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw invalidYaml(path, first.linePos?.[0]?.line, first.code);
  }
  const duplicate = duplicateKeyOffset(doc.contents);
  if (duplicate !== null) throw invalidYaml(path, lineAt(text, duplicate), "DUPLICATE_KEY");
  const root = doc.contents;
  const empty = root === null || (isScalar(root) && root.value === null);
  if (!empty && !isMap(root)) {
    throw new ToolError(
      "vault",
      `the vault ${path} must be a mapping of keys at its top level; fix it`,
    );
  }
  return documentOf(doc, path);
}

function yamlMap(map: CanonicalMap): YAMLMap {
  const out = new YAMLMap();
  for (const key of mappingKeys(map)) {
    const value = mappingGet(map, key)!;
    out.items.push(
      new Pair(new Scalar(key), isMapping(value) ? yamlMap(value) : new Scalar(value)),
    );
  }
  return out;
}

/**
 * The `yaml` document of canonical data, for a value the canonical writer leaves to `yaml`
 * (a key over 1,024 characters, a literal block with a keep indicator).
 */
export function yamlFromCanonical(root: CanonicalMap): VaultDocument {
  const doc = new Document();
  doc.contents = yamlMap(root);
  return documentOf(doc, undefined);
}
