/**
 * The {@linkcode VaultDocument} of a vault read in the canonical form (`canonical.ts`):
 * plain maps, merged in place, written back without `yaml` unless a new value needs a form
 * the canonical writer leaves to it.
 *
 * @module
 */

import type { LeafValue, VaultEntry } from "../contract/provider.ts";
import type { Located, VaultDocument } from "./document.ts";
import { type CanonicalMap, type CanonicalNode, renderCanonical } from "./canonical.ts";
import type { VaultTree } from "./tree.ts";

/** The vault's data as plain objects, as `yaml`'s `toJS` gives it. */
export function canonicalTree(map: CanonicalMap): VaultTree {
  const out: VaultTree = {};
  for (const [key, value] of map) {
    const plain = value instanceof Map ? canonicalTree(value) : value;
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

function forEachLeafKey(map: CanonicalMap, visit: (key: string) => void, base?: string): void {
  for (const key of [...map.keys()].sort()) {
    const value = map.get(key)!;
    const dotted = base === undefined ? key : `${base}.${key}`;
    if (value instanceof Map) forEachLeafKey(value, visit, dotted);
    else visit(dotted);
  }
}

function locate(root: CanonicalMap, path: readonly string[]): Located {
  let map = root;
  for (let i = 0; i < path.length; i++) {
    const value: CanonicalNode | undefined = map.get(path[i]);
    if (value === undefined) return { kind: "absent", depth: i };
    if (i === path.length - 1) {
      if (value instanceof Map) return { kind: "map", depth: i + 1 };
      return { kind: "leaf", depth: i + 1, scalar: true, value };
    }
    if (!(value instanceof Map)) return { kind: "blocked", depth: i + 1 };
    map = value;
  }
  return { kind: "map", depth: path.length };
}

function apply(root: CanonicalMap, entries: readonly VaultEntry[]): void {
  for (const entry of entries) {
    let map = root;
    const last = entry.path.length - 1;
    for (let i = 0; i < last; i++) {
      let child = map.get(entry.path[i]);
      if (!(child instanceof Map)) {
        child = new Map();
        map.set(entry.path[i], child);
      }
      map = child;
    }
    // An existing key keeps its place, as `yaml` keeps its pair.
    map.set(entry.path[last], entry.value satisfies LeafValue);
  }
}

/** A vault document over a canonical vault's data (see the module documentation). */
export function canonicalDocument(root: CanonicalMap): VaultDocument {
  return {
    form: "canonical",
    tree: () => canonicalTree(root),
    forEachLeafKey: (visit) => forEachLeafKey(root, visit),
    locate: (path) => locate(root, path),
    apply: (entries) => apply(root, entries),
    async render() {
      const text = renderCanonical(root);
      if (text !== null) return text;
      const { yamlFromCanonical } = await import("./yaml_document.ts");
      return await yamlFromCanonical(root).render();
    },
  };
}
