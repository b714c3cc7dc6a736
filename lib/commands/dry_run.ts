/**
 * The redacted dry-run report: which vault keys a load would add, change or leave, with
 * where each value comes from and, from the manifest, what the vault holds now. Never a
 * value.
 *
 * @module
 */

import { type KeyProvenance, type Manifest, recordOf } from "../vault/manifest.ts";
import { escapeControl } from "../output/escape.ts";
import type { MergePlan } from "../vault/merge.ts";

/** One provenance record as text: backend, source, version and last change when known. */
export function describeProvenance(record: KeyProvenance): string {
  let text = `${record.backend} "${record.source}"`;
  if (record.version !== undefined) text += ` version ${record.version}`;
  if (record.updated !== undefined) text += ` changed ${record.updated}`;
  return text;
}

/** The report lines: `add`, `change`, `unchanged`, each key with its provenance. */
export function dryRunLines(
  plan: MergePlan,
  fetched: ReadonlyMap<string, KeyProvenance>,
  previous: Manifest | null,
): string[] {
  const from = (key: string) => {
    const record = fetched.get(key);
    return record ? `  from ${describeProvenance(record)}` : "";
  };
  const was = (key: string) => {
    if (previous === null) return "";
    const record = recordOf(previous, key);
    if (!record) return "; vault value not from a recorded load";
    return `; vault has ${describeProvenance(record)} fetched ${record.fetched}`;
  };
  // Names come from the backend: escaped so one line stays one line, with no raw ANSI.
  return [
    ...plan.added.map((key) => `add       ${key}${from(key)}`),
    ...plan.changed.map((key) => `change    ${key}${from(key)}${was(key)}`),
    ...plan.unchanged.map((key) => `unchanged ${key}${from(key)}`),
  ].map(escapeControl);
}
