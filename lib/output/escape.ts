/**
 * Control characters made visible: a name with a newline could forge a log line (`3
 * added`), and ANSI escapes could recolour or erase the terminal. Every log line's message
 * and every dry-run line passes through {@linkcode escapeControl}.
 *
 * @module
 */

const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Replace C0 and C1 control characters, DEL and the Unicode line and bidi controls with a
 * visible escape (`\n`, `\r`, `\t`, `\x1b`, `\u2028`, ...); the rest is kept as it is.
 *
 * @example
 * ```ts
 * escapeControl("a\nb\x1b[31m"); // "a\\nb\\x1b[31m"
 * ```
 */
export function escapeControl(text: string): string {
  // deno-lint-ignore no-control-regex -- control characters are exactly what is escaped
  return text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (char) => {
    const named = NAMED[char];
    if (named !== undefined) return named;
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
