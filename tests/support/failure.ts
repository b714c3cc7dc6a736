/**
 * The repeated check of a failed run: the documented exit code, exactly one error line
 * matching the cause, no secret in the output, and the vault byte-for-byte unchanged
 * (still absent when it was absent). One row of a table, or one run.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertNoLeak, assertOneErrorLine } from "./assertions.ts";
import { type RunOptions, type RunResult, runTool } from "./run_tool.ts";
import { readBytes, tempVault } from "./temp.ts";

/**
 * Values that must not appear in a run's output: a list, or a function read after the run
 * (for what a fake issues during it, such as tokens).
 */
export type Secrets = readonly string[] | (() => readonly string[]);

/** The values of `secrets` now. */
export function secretsNow(secrets: Secrets = []): readonly string[] {
  return typeof secrets === "function" ? secrets() : secrets;
}

/** How a run must fail. */
export interface ExpectedFailure {
  /** The documented exit code. */
  code: number;
  /** What the one error line must say. */
  line: RegExp;
  /** Values that must not appear in the output, in any derived form (default none). */
  secrets?: Secrets;
}

/** A vault file and its bytes before a run (null: it did not exist). */
export interface VaultSnapshot {
  /** The vault's path. */
  vault: string;
  /** Its bytes before the run. */
  before: Uint8Array | null;
}

/** Take a {@linkcode VaultSnapshot} of `vault` now. */
export async function snapshot(vault: string): Promise<VaultSnapshot> {
  return { vault, before: await readBytes(vault) };
}

/** Assert that `result` failed cleanly (see the module) and left `snap`'s vault as it was. */
export async function assertCleanFailure(
  result: RunResult,
  snap: VaultSnapshot,
  expected: ExpectedFailure,
): Promise<void> {
  assert.equal(result.code, expected.code, `exit code; stderr:\n${result.stderr}`);
  assertOneErrorLine(result, expected.line);
  assertNoLeak(result, secretsNow(expected.secrets));
  assert.deepEqual(await readBytes(snap.vault), snap.before, "vault byte-for-byte unchanged");
}

/** One row of a failure table: a run of the tool over a fresh vault, and how it must fail. */
export interface FailureRow extends ExpectedFailure {
  /** What is wrong (names the row in messages). */
  what: string;
  /** The environment (`SECRETS_VAULT_PATH` is added). */
  env: Record<string, string>;
  /** Command-line arguments (default none). */
  args?: string[];
  /** The starting vault's text (default: no vault file). */
  vault?: string;
  /** Options of the run. */
  options?: RunOptions;
}

/**
 * Run every row (each over its own temporary vault, removed afterwards), `concurrency` at a
 * time, and assert that each failed cleanly; the message lists every row that did not.
 */
export async function assertFailureTable(
  rows: readonly FailureRow[],
  { concurrency = 1 }: { concurrency?: number } = {},
): Promise<void> {
  const failures: string[] = [];
  const queue = [...rows];
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      await using tmp = await tempVault(row.vault);
      const snap = await snapshot(tmp.vault);
      const result = await runTool(
        row.args ?? [],
        { ...row.env, SECRETS_VAULT_PATH: tmp.vault },
        row.options,
      );
      try {
        await assertCleanFailure(result, snap, row);
      } catch (error) {
        failures.push(
          `${row.what}: ${(error as Error).message.split("\n")[0]}\n    got ${result.code}: ${
            result.stderr.trim().split("\n").join(" | ")
          }`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  assert.deepEqual(failures, [], failures.join("\n"));
}
