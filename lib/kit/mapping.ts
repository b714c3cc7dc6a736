/**
 * Turning backend secret names and values into vault entries: prefix stripping, separator
 * conversion, dotted-key splitting and JSON expansion. Each provider's `map` is built
 * from these.
 *
 * @module
 */

import { ToolError } from "./errors.ts";
import type {
  FetchedSecret,
  LeafValue,
  ProviderSettings,
  SecretValue,
  VaultEntry,
} from "../contract/provider.ts";

/** Remove `prefix` from the start of `name` when present. */
export function stripPrefix(name: string, prefix: string | undefined): string {
  if (prefix && name.startsWith(prefix)) return name.slice(prefix.length);
  return name;
}

/**
 * Split a dotted vault key into segments. Empty segments (`A..B`, `.A`, `A.`) are errors
 * naming the key and the secret it came from.
 *
 * @example
 * ```ts
 * splitKey("SNOWFLAKE.TRANSFORM.USERNAME", "s"); // ["SNOWFLAKE", "TRANSFORM", "USERNAME"]
 * ```
 */
export function splitKey(key: string, source: string): string[] {
  const segments = key.split(".");
  if (key === "" || segments.some((segment) => segment === "")) {
    throw new ToolError(
      "conflict",
      `secret "${source}" maps to the vault key "${key}", which has an empty segment; rename the secret or its JSON key`,
    );
  }
  return segments;
}

/**
 * Convert a backend name to segments: strip the prefix, then split on `separator`
 * (for example `/` for SSM and Vault, `-` for Azure); dots inside a part split it further.
 * One rule for every backend: one leading separator is the root of a path (`/A/B` and
 * `A/B` both give `["A", "B"]`, as SSM names always start with `/`); any other empty part
 * (`A//B`, `A/B/`, `//A`) is a `conflict` error naming the secret, as `A..B` is, because
 * dropping it silently would put `A/B`, `A//B` and `A/B/` on one key.
 */
export function nameToPath(
  name: string,
  separator: string,
  prefix: string | undefined,
  source = name,
): string[] {
  let stripped = stripPrefix(name, prefix);
  if (stripped.startsWith(separator)) stripped = stripped.slice(separator.length);
  const parts = stripped.split(separator);
  if (stripped !== "" && parts.some((part) => part === "")) {
    const where = stripped.endsWith(separator)
      ? "ends with"
      : stripped.startsWith(separator)
      ? "starts with more than one"
      : "has a doubled";
    throw new ToolError(
      "conflict",
      `secret "${source}" ${where} separator "${separator}", which leaves an empty part in its vault key; rename the secret (one leading "${separator}" is allowed) or adjust SECRETS_STRIP_PREFIX`,
    );
  }
  return splitKey(parts.join("."), source);
}

/**
 * Most segments a vault key may have (name segments and nested JSON keys together). Real
 * configurations use a handful; the limit keeps hostile nesting (JSON nested hundreds of
 * levels) from exhausting the call stack, here or when a value crosses a Worker.
 */
export const MAX_KEY_DEPTH = 64;

function tooDeep(source: string): ToolError {
  return new ToolError(
    "conflict",
    `secret "${source}" nests deeper than ${MAX_KEY_DEPTH} levels (its name and JSON keys together); flatten the secret's value or unset SECRETS_EXPAND_JSON`,
  );
}

/**
 * Throw a `conflict` error naming `source` when `value` nests objects or lists more than
 * {@linkcode MAX_KEY_DEPTH} levels deep. Iterative, so any depth is checked safely.
 */
export function checkDepth(value: unknown, source: string): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    if (depth >= MAX_KEY_DEPTH) throw tooDeep(source);
    for (const child of Object.values(item)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
}

/** Whether a value is a plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parse a string value as a JSON object for expansion. Returns undefined when the text
 * does not start with `{`; malformed JSON that does is an error naming the secret (never
 * quoting the value).
 */
export function parseJsonObject(
  text: string,
  source: string,
): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith("{")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const cause = error instanceof SyntaxError ? positionOf(error.message) : "";
    throw new ToolError(
      "conflict",
      `secret "${source}" looks like JSON but does not parse${cause}; fix the secret or unset SECRETS_EXPAND_JSON`,
    );
  }
  return isPlainObject(parsed) ? parsed : undefined;
}

function positionOf(message: string): string {
  const match = /position (\d+)/.exec(message);
  return match ? ` (error at character ${match[1]})` : "";
}

/**
 * Flatten a (possibly nested) object into entries below `base`. Keys may be dotted paths
 * themselves. Leaves must be strings, numbers or booleans; anything else is an error
 * naming the key. A key of more than {@linkcode MAX_KEY_DEPTH} segments is an error
 * naming the secret.
 */
export function flatten(
  base: readonly string[],
  value: unknown,
  source: string,
  out: VaultEntry[] = [],
): VaultEntry[] {
  if (base.length > MAX_KEY_DEPTH) throw tooDeep(source);
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      flatten([...base, ...splitKey(key, source)], child, source, out);
    }
    return out;
  }
  out.push({ path: [...base], value: toLeaf(value, base, source), source });
  return out;
}

function toLeaf(value: unknown, path: readonly string[], source: string): LeafValue {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  const what = value === null ? "null" : Array.isArray(value) ? "a list" : typeof value;
  throw new ToolError(
    "conflict",
    `secret "${source}" gives the vault key "${
      path.join(".")
    }" ${what}; only strings, numbers, booleans and mappings can be stored`,
  );
}

/**
 * The common mapping: the secret's value goes to `path`; with `expandJson`, a value that
 * is a JSON object (or already a mapping) is merged below `path` instead.
 */
export function mapValue(
  path: readonly string[],
  secret: FetchedSecret,
  expandJson: boolean,
): VaultEntry[] {
  const { value, name } = secret;
  if (typeof value === "string" && expandJson && secret.encoding === undefined) {
    const parsed = parseJsonObject(value, name);
    if (parsed !== undefined) return flatten(path, parsed, name);
  }
  return flatten(path, value as SecretValue, name);
}

/**
 * The value of `field` (a dotted path) in a secret's JSON object. A text value must be a
 * JSON object; on the way down, a text that is itself a JSON object is entered too (a
 * HashiCorp Vault data value holding JSON). A missing field or a value that is not JSON is
 * a `conflict` error naming the secret and the field, never the value.
 */
export function pickField(secret: FetchedSecret, field: string): SecretValue {
  const fail = (why: string) =>
    new ToolError(
      "conflict",
      `secret "${secret.name}" ${why}, so ;field=${field} cannot be picked; fix the field in SECRETS_SELECTION or the secret`,
    );
  if (secret.encoding === "base64") throw fail("is binary, not a JSON object");
  let current: unknown = secret.value;
  const walked: string[] = [];
  for (const segment of field.split(".")) {
    if (typeof current === "string") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(current);
      } catch {
        parsed = undefined;
      }
      if (!isPlainObject(parsed)) {
        throw fail(
          walked.length === 0 ? "is not a JSON object" : `has no object at "${walked.join(".")}"`,
        );
      }
      current = parsed;
    }
    if (!isPlainObject(current)) {
      throw fail(
        walked.length === 0 ? "is not a JSON object" : `has no object at "${walked.join(".")}"`,
      );
    }
    if (!Object.hasOwn(current, segment)) {
      throw fail(`has no field "${[...walked, segment].join(".")}"`);
    }
    current = current[segment];
    walked.push(segment);
  }
  return current as SecretValue;
}

/**
 * Map a secret with its selector's options applied, the same way for every backend.
 * Without options, `whole()` is the backend's usual mapping. With `;key=` only, the whole
 * secret is mapped below that key (`whole(key)`). With `;field=`, only the field is
 * loaded: at `;key=` when given, else at the secret's own path (`base()`) followed by the
 * field's segments, where `SECRETS_EXPAND_JSON` would have put it.
 */
export function mapPicked(
  secret: FetchedSecret,
  settings: Pick<ProviderSettings, "expandJson">,
  base: () => string[],
  whole: (under?: string[]) => VaultEntry[],
): VaultEntry[] {
  const pick = secret.pick;
  if (pick === undefined || (pick.field === undefined && pick.key === undefined)) {
    return whole();
  }
  const key = pick.key === undefined ? undefined : splitKey(pick.key, secret.name);
  if (pick.field === undefined) return whole(key);
  const value = pickField(secret, pick.field);
  const path = key ?? [...base(), ...splitKey(pick.field, secret.name)];
  return mapValue(path, { ...secret, value, encoding: undefined }, settings.expandJson);
}

/**
 * Map a secret whose name is its vault path (after `SECRETS_STRIP_PREFIX`, levels split on
 * `separator`), with its selector's options applied: `place(path)` stores the value at a
 * path, as the backend stores it (`flatten` keeps text as it is, `mapValue` may expand JSON).
 *
 * @example
 * ```ts ignore
 * mapNamed(secret, settings, "-", (path) => mapValue(path, secret, settings.expandJson));
 * ```
 */
export function mapNamed(
  secret: FetchedSecret,
  settings: Pick<ProviderSettings, "expandJson" | "stripPrefix">,
  separator: string,
  place: (path: readonly string[]) => VaultEntry[],
): VaultEntry[] {
  const path = () => nameToPath(secret.name, separator, settings.stripPrefix);
  return mapPicked(secret, settings, path, (under) => place(under ?? path()));
}
