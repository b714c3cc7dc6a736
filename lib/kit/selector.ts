/**
 * The selector grammar of `SECRETS_SELECTION` (see `docs/selectors.md`): each
 * comma-separated entry is a backend name, optionally followed by options that pin a
 * version, pick one JSON field and choose the vault key:
 *
 * ```text
 * NAME[;version=VERSION][;field=FIELD][;key=KEY]
 * ```
 *
 * An option starts only at `;version=`, `;field=` or `;key=` (spaces allowed around the
 * option's name), so every selector written
 * before options existed (including HashiCorp Vault paths that contain `;`) keeps its
 * meaning: a text without one of those three sequences is a plain name, taken verbatim.
 *
 * @module
 */

import { ToolError } from "./errors.ts";

/** The option names, in the order {@linkcode formatSelector} writes them. */
export const SELECTOR_OPTIONS = ["version", "field", "key"] as const;

/** One option name. */
export type SelectorOption = typeof SELECTOR_OPTIONS[number];

/** One parsed selector. */
export interface Selector {
  /** The backend name, path, prefix or ARN, exactly as before options existed. */
  name: string;
  /** The version or stage to read (backend-specific: see `docs/selectors.md`). */
  version?: string;
  /** A dotted path into the JSON object of the secret's value: only that field is loaded. */
  field?: string;
  /** The dotted vault key the value (or picked field) goes under, instead of its name's. */
  key?: string;
}

// Matches where an option starts. Used with lastIndex, so it carries the `g` flag.
const OPTION_START = /;\s*(version|field|key)\s*=/g;

/** Whether `text` holds a sequence that would start an option (`;version=` and so on). */
export function hasOptionStart(text: string): boolean {
  OPTION_START.lastIndex = 0;
  return OPTION_START.test(text);
}

/** Whether a selector has any option. */
export function hasOptions(selector: Selector): boolean {
  return selector.version !== undefined || selector.field !== undefined ||
    selector.key !== undefined;
}

function bad(text: string, why: string): ToolError {
  return new ToolError(
    "config",
    `SECRETS_SELECTION entry ${
      JSON.stringify(text.slice(0, 200))
    } ${why}; write NAME[;version=V][;field=F][;key=K] (see docs/selectors.md)`,
  );
}

function checkDotted(text: string, option: string, value: string): void {
  if (value.split(".").some((segment) => segment === "")) {
    throw bad(text, `has ${option}=${JSON.stringify(value)} with an empty segment`);
  }
}

/**
 * Parse one selector. A text without an option start is `{ name: text }`, unchanged.
 * Throws a `config` error for an empty name, an empty or repeated option, or a field or
 * key with an empty dotted segment.
 *
 * @example
 * ```ts
 * parseSelector("prod/db;version=AWSPREVIOUS;field=password;key=SNOWFLAKE.PASSWORD");
 * // { name: "prod/db", version: "AWSPREVIOUS", field: "password", key: "SNOWFLAKE.PASSWORD" }
 * parseSelector("prod/db"); // { name: "prod/db" }
 * ```
 */
export function parseSelector(text: string): Selector {
  OPTION_START.lastIndex = 0;
  const starts: { option: SelectorOption; at: number; valueAt: number }[] = [];
  for (let match = OPTION_START.exec(text); match; match = OPTION_START.exec(text)) {
    starts.push({
      option: match[1] as SelectorOption,
      at: match.index,
      valueAt: match.index + match[0].length,
    });
  }
  if (starts.length === 0) return { name: text };
  const name = text.slice(0, starts[0].at).trim();
  if (name === "") throw bad(text, "has options but no name");
  const selector: Selector = { name };
  starts.forEach((start, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].at : text.length;
    const value = text.slice(start.valueAt, end).trim();
    if (value === "") throw bad(text, `has an empty ${start.option}=`);
    if (selector[start.option] !== undefined) throw bad(text, `repeats ${start.option}=`);
    if (start.option !== "version") checkDotted(text, start.option, value);
    selector[start.option] = value;
  });
  return selector;
}

/**
 * Write a selector back as text, options in the order version, field, key. Throws when
 * a part cannot be written so that it parses back (a name or value holding an option
 * start, or edge whitespace).
 */
export function formatSelector(selector: Selector): string {
  const parts = [selector.name];
  const check = (what: string, value: string) => {
    if (hasOptionStart(value) || value.trim() !== value || value === "") {
      throw new ToolError(
        "internal",
        `selector ${what} ${JSON.stringify(value)} cannot be written`,
      );
    }
  };
  check("name", selector.name);
  for (const option of SELECTOR_OPTIONS) {
    const value = selector[option];
    if (value === undefined) continue;
    check(option, value);
    parts.push(`${option}=${value}`);
  }
  return parts.join(";");
}

/**
 * Refuse a name holding `;` for backends whose names cannot (AWS Secrets Manager, SSM,
 * Key Vault): there it can only be a misspelt option, such as `;verison=2`.
 */
export function refuseStraySemicolon(text: string, selector: Selector, backend: string): void {
  if (selector.name.includes(";")) {
    throw bad(
      text,
      `has a ";" that starts no option (${backend} names cannot hold ";"); the options are ;version=, ;field= and ;key=`,
    );
  }
}

/** Parse every entry of `SECRETS_SELECTION` (already split on commas). */
export function parseSelection(selection: readonly string[]): Selector[] {
  return selection.map(parseSelector);
}

/** A stable identity of a selector's options, to tell apart selectors of one name. */
export function optionsKey(selector: Selector): string {
  return hasOptions(selector)
    ? JSON.stringify([selector.version ?? null, selector.field ?? null, selector.key ?? null])
    : "";
}
