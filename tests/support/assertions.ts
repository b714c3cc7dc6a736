/**
 * Assertions on a run's output: no secret in any derived form, exactly one error line.
 *
 * @module
 */

import assert from "node:assert/strict";
import { derivedForms } from "../../lib/output/redact.ts";
import { type ErrorKind, isKind } from "../../lib/kit/errors.ts";
import type { RunResult } from "./run_tool.ts";

/** The output streams of a run (a {@linkcode RunResult} or just its text). */
export type RunOutput = Pick<RunResult, "stdout" | "stderr">;

/**
 * Assert that no secret value, in any derived form (lines, JSON leaves, base64,
 * URL-encoding), appears in the run's stdout or stderr.
 */
export function assertNoLeak(result: RunOutput, secrets: readonly string[]): void {
  const output = `${result.stdout}\n${result.stderr}`;
  for (const secret of secrets) {
    for (const form of derivedForms(secret)) {
      assert.ok(
        !output.includes(form),
        `a secret (form of length ${form.length}) leaked into output`,
      );
    }
  }
}

/** Assert that the run printed exactly one error line and nothing that looks like a stack. */
export function assertOneErrorLine(result: RunOutput, pattern: RegExp): void {
  const errors = result.stderr.split("\n").filter((line) => line.includes("error:"));
  assert.equal(errors.length, 1, `expected one error line, got:\n${result.stderr}`);
  assert.match(errors[0], pattern);
  assert.ok(!/\n\s+at /.test(result.stderr), `stack trace in stderr:\n${result.stderr}`);
}

/** An `assert.throws` matcher for a {@linkcode ToolError} of `kind`. */
export function kindOf(kind: ErrorKind): (error: unknown) => boolean {
  return (error) => isKind(error, kind);
}
