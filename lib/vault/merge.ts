/**
 * Merging vault entries into the vault: conflict checks within the fetched set and
 * against the existing vault, and the added/changed/unchanged plan. The document itself
 * writes the entries in (`document.ts`).
 *
 * @module
 */

import { ToolError } from "../kit/errors.ts";
import type { VaultEntry } from "../contract/provider.ts";
import type { VaultDocument } from "./document.ts";

/** Which keys a merge adds, changes and leaves as they are (dotted paths, sorted). */
export interface MergePlan {
  /** Keys not in the vault yet. */
  added: string[];
  /** Keys whose value changes. */
  changed: string[];
  /** Keys already holding the fetched value. */
  unchanged: string[];
}

const dotted = (path: readonly string[]): string => path.join(".");

/**
 * Sort entries by path and check them against each other: two secrets mapping to one key,
 * or a key that is a value in one secret and a namespace in another, are errors naming
 * both. Returns the sorted entries.
 */
export function checkEntries(entries: readonly VaultEntry[]): VaultEntry[] {
  // Keys computed once (not in the comparator): O(n log n) comparisons of ready strings.
  const keyed = entries.map((entry) => ({ entry, key: dotted(entry.path) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  const sorted = keyed.map((item) => item.entry);
  const leaves = new Map<string, VaultEntry>();
  for (const { entry, key } of keyed) {
    const twin = leaves.get(key);
    if (twin) {
      throw new ToolError(
        "conflict",
        `secrets "${twin.source}" and "${entry.source}" both map to the vault key "${key}"; rename one of them`,
      );
    }
    leaves.set(key, entry);
  }
  for (const { entry, key } of keyed) {
    let prefix = "";
    for (let i = 0; i < entry.path.length - 1; i++) {
      prefix = i === 0 ? entry.path[0] : `${prefix}.${entry.path[i]}`;
      const holder = leaves.get(prefix);
      if (holder) {
        throw new ToolError(
          "conflict",
          `vault key "${prefix}" (from secret "${holder.source}") would be both a value and the namespace of "${key}" (from secret "${entry.source}"); a key cannot be both`,
        );
      }
    }
  }
  return sorted;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compare sorted, checked entries with the existing vault. A new key below an existing
 * value, or a new value where the vault has a namespace, is an error naming both keys.
 */
export function planMerge(doc: VaultDocument, entries: readonly VaultEntry[]): MergePlan {
  const plan: MergePlan = { added: [], changed: [], unchanged: [] };
  for (const entry of entries) {
    const key = dotted(entry.path);
    const found = doc.locate(entry.path);
    switch (found.kind) {
      case "absent":
        plan.added.push(key);
        break;
      case "blocked":
        throw new ToolError(
          "conflict",
          `vault key "${
            dotted(entry.path.slice(0, found.depth))
          }" holds a value in the existing vault, so secret "${entry.source}" cannot add "${key}" below it; remove one of them`,
        );
      case "map":
        throw new ToolError(
          "conflict",
          `vault key "${key}" is a namespace in the existing vault, so secret "${entry.source}" cannot store a value there; remove one of them`,
        );
      case "leaf": {
        const same = found.scalar && found.value === entry.value;
        (same ? plan.unchanged : plan.changed).push(key);
        break;
      }
    }
  }
  return plan;
}
