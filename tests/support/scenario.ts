/**
 * A scenario: a temporary vault file and runs of the tool writing it, each with the
 * scenario's environment plus its own variables, and the two usual outcomes checked in one
 * call: a load (exit 0, no secret printed) or a clean failure ({@linkcode assertCleanFailure}
 * against the vault as it was just before the run).
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertNoLeak } from "./assertions.ts";
import {
  assertCleanFailure,
  type ExpectedFailure,
  type Secrets,
  secretsNow,
  snapshot,
} from "./failure.ts";
import { type RunResult, runTool } from "./run_tool.ts";
import { disposeAll, tempVault } from "./temp.ts";

/** The environment of a run writing `vault` (its `SECRETS_VAULT_PATH` included). */
export type EnvFor = (vault: string) => Record<string, string>;

/** A temporary vault and runs against it (removed, with what it owns, when disposed). */
export interface Scenario extends AsyncDisposable {
  /** The vault file's path. */
  vault: string;
  /** The temporary folder holding it. */
  dir: string;
  /** Run the tool with `args` and the scenario's environment plus `extra`. */
  run(extra?: Record<string, string>, args?: string[]): Promise<RunResult>;
  /** {@linkcode Scenario.run}, then assert exit 0 and that no value of `secrets` was printed. */
  loads(extra: Record<string, string>, secrets: Secrets, args?: string[]): Promise<RunResult>;
  /** {@linkcode Scenario.run}, then assert it failed as `expected`, the vault unchanged. */
  fails(
    extra: Record<string, string>,
    expected: ExpectedFailure,
    args?: string[],
  ): Promise<RunResult>;
}

/** What {@linkcode scenario} accepts besides the environment. */
export interface ScenarioOptions {
  /** The starting vault's text (default: no vault file). */
  vault?: string;
  /** Disposed after the temporary folder (e.g. the fakes the runs talk to). */
  owns?: AsyncDisposable[];
}

/** A fresh temporary vault (see {@linkcode ScenarioOptions}) and runs with `env` writing it. */
export async function scenario(env: EnvFor, options: ScenarioOptions = {}): Promise<Scenario> {
  const tmp = await tempVault(options.vault);
  const run = (extra: Record<string, string> = {}, args: string[] = []) =>
    runTool(args, { ...env(tmp.vault), ...extra });
  return {
    vault: tmp.vault,
    dir: tmp.dir,
    run,
    async loads(extra, secrets, args) {
      const result = await run(extra, args);
      assert.equal(result.code, 0, result.stderr);
      assertNoLeak(result, secretsNow(secrets));
      return result;
    },
    async fails(extra, expected, args) {
      const snap = await snapshot(tmp.vault);
      const result = await run(extra, args);
      await assertCleanFailure(result, snap, expected);
      return result;
    },
    [Symbol.asyncDispose]: disposeAll(...(options.owns ?? []), tmp),
  };
}
