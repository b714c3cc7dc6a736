/**
 * The {@linkcode VaultDocument} of a vault read in the canonical form (`canonical.ts`):
 * plain maps, merged in place, written back without `yaml` unless a new value needs a form
 * the canonical writer leaves to it.
 *
 * @module
 */

import type { LeafValue } from "../contract/provider.ts";
import type { Located, VaultDocument } from "./document.ts";
import {
  type CanonicalMap,
  isMapping,
  mappingGet,
  mappingKeys,
  mappingSet,
  newMapping,
  renderCanonical,
} from "./canonical.ts";
import type { VaultTree } from "./tree.ts";

/** The vault's data as plain objects, as `yaml`'s `toJS` gives it. */
export function canonicalTree(map: CanonicalMap): VaultTree {
  const out: VaultTree = {};
  for (const key of mappingKeys(map)) {
    const value = mappingGet(map, key)!;
    const plain = isMapping(value) ? canonicalTree(value) : value;
    // A `__proto__` key is data, not the object's prototype.
    if (key === "__proto__") {
      Object.defineProperty(out, key, {
        value: plain,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else {
      out[key] = plain;
    }
  }
  return out;
}

/** A mapping's keys in sorted order: its own order when that is sorted already (usual). */
function sortedKeys(map: CanonicalMap): Iterable<string> {
  const keys = mappingKeys(map);
  let previous: string | undefined;
  for (const key of keys) {
    if (previous !== undefined && key < previous) return [...mappingKeys(map)].sort();
    previous = key;
  }
  return Array.isArray(keys) ? keys : mappingKeys(map);
}

/** The dotted key of every leaf, keys sorted at each level; one string made per leaf. */
function forEachLeafKey(root: CanonicalMap, visit: (key: string) => void): void {
  const path: string[] = [];
  const walk = (map: CanonicalMap) => {
    for (const key of sortedKeys(map)) {
      const value = mappingGet(map, key)!;
      path.push(key);
      if (isMapping(value)) walk(value);
      else visit(path.join("."));
      path.pop();
    }
  };
  walk(root);
}

function locate(root: CanonicalMap, path: readonly string[]): Located {
  let map = root;
  for (let i = 0; i < path.length; i++) {
    const value = mappingGet(map, path[i]);
    if (value === undefined) return { kind: "absent", depth: i };
    if (i === path.length - 1) {
      if (isMapping(value)) return { kind: "map", depth: i + 1 };
      return { kind: "leaf", depth: i + 1, scalar: true, value };
    }
    if (!isMapping(value)) return { kind: "blocked", depth: i + 1 };
    map = value;
  }
  return { kind: "map", depth: path.length };
}

/**
 * Set `path[at...]` below `map` to `value`, creating mappings on the way; returns the
 * mapping to keep in place of `map` (a `Map` may replace an object, see `mappingSet`).
 */
function setPath(
  map: CanonicalMap,
  path: readonly string[],
  at: number,
  value: LeafValue,
): CanonicalMap {
  const key = path[at];
  // An existing key keeps its place, as `yaml` keeps its pair.
  if (at === path.length - 1) return mappingSet(map, key, value);
  const child = mappingGet(map, key);
  const below = isMapping(child) ? child : newMapping();
  const kept = setPath(below, path, at + 1, value);
  return kept === child ? map : mappingSet(map, key, kept);
}

/** A vault document over a canonical vault's data (see the module documentation). */
export function canonicalDocument(parsed: CanonicalMap): VaultDocument {
  let root = parsed;
  return {
    form: "canonical",
    tree: () => canonicalTree(root),
    forEachLeafKey: (visit) => forEachLeafKey(root, visit),
    locate: (path) => locate(root, path),
    apply(entries) {
      for (const entry of entries) root = setPath(root, entry.path, 0, entry.value);
    },
    async render() {
      const text = renderCanonical(root);
      if (text !== null) return text;
      const { yamlFromCanonical } = await import("./yaml_document.ts");
      return await yamlFromCanonical(root).render();
    },
  };
}
