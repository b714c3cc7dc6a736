/**
 * Crash safety: SIGKILL at many points of a large load leaves the old vault or the new
 * one, never a mix; the lock of a killed run is taken over at once; temp files a killed
 * run left are removed by the next run.
 */

import assert from "node:assert/strict";
import { readBytes, tempVault } from "./support/temp.ts";
import { runTool, spawnTool } from "./support/run_tool.ts";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { customEnv, customSource } from "./support/custom_source.ts";
import { seededRandom } from "./fakes/faults.ts";

const KEYS = 4000;

function secrets(generation: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < KEYS; i++) {
    out[`NS${i % 40}.GROUP${i % 7}.KEY${i}`] = `${generation}-value-${i}-${(i * 2654435761) >>> 0}`;
  }
  return out;
}

function tempsIn(files: string[]): string[] {
  return files.filter((name) => name.endsWith(".tmp"));
}

async function list(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names;
}

/** Start the tool; SIGKILL it `delayMs` after the first temp file appears in `dir`. */
async function killDuringWrite(
  env: Record<string, string>,
  dir: string,
  delayMs: number,
): Promise<void> {
  const child = spawnTool([], env, { stdout: "null", stderr: "null" });
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  while (!exited) {
    if (tempsIn(await list(dir)).length > 0) {
      await new Promise((r) => setTimeout(r, delayMs));
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await status;
}

Deno.test("SIGKILL at random points of a large load leaves the old vault or the new one, never a mix", async () => {
  await using oldSource = await customSource(secrets("old"));
  await using tmp = await tempVault();
  const { dir, vault } = tmp;
  // The old vault, and the new vault a complete run writes over it.
  let result = await runTool([], customEnv(oldSource.script, vault));
  assert.equal(result.code, 0, result.stderr);
  const oldBytes = (await readBytes(vault))!;
  await using newSource = await customSource(secrets("new"));
  const started = Date.now();
  result = await runTool([], customEnv(newSource.script, vault));
  const full = Date.now() - started;
  assert.equal(result.code, 0, result.stderr);
  const newBytes = (await readBytes(vault))!;
  assert.notDeepEqual(oldBytes, newBytes);

  const random = seededRandom(7);
  const outcomes = { old: 0, new: 0 };
  // At least 10 kills; up to 10 more while one outcome is still missing, the late kills
  // later each time, since a busy machine can make every run slower than the one timed.
  for (let run = 0; run < 20 && (run < 10 || outcomes.old === 0 || outcomes.new === 0); run++) {
    await Deno.writeFile(vault, oldBytes);
    // Even runs: a kill at a random time in the second half of a run (mapping, merge,
    // write). Odd runs: a kill a random 0-40 ms after the first temp file appears, i.e.
    // inside the write phase (manifest temp, rename, vault temp, rename).
    const inWrite = run % 2 === 1;
    const stretch = 1 + 0.2 * Math.max(0, run - 9);
    const delay = inWrite
      ? Math.round(40 * random())
      : Math.round(full * stretch * (0.45 + 0.65 * random()));
    if (inWrite) await killDuringWrite(customEnv(newSource.script, vault), dir, delay);
    else await runTool([], customEnv(newSource.script, vault), { killAfterMs: delay });
    const bytes = await readBytes(vault);
    assert.ok(bytes !== null, `vault missing after a kill at ${delay} ms`);
    const same = (a: Uint8Array, b: Uint8Array) =>
      a.length === b.length && a.every((byte, i) => byte === b[i]);
    if (same(bytes, oldBytes)) outcomes.old++;
    else if (same(bytes, newBytes)) outcomes.new++;
    else assert.fail(`a kill at ${delay} ms of ${full} ms left a mixed vault`);
  }
  // Whatever the kills left behind, the next run takes the lock at once, removes stale
  // temp files and completes.
  const next = await runTool(["--verbose"], {
    ...customEnv(newSource.script, vault),
    SECRETS_LOCK_TIMEOUT: "2",
  });
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(await readBytes(vault), newBytes);
  assert.deepEqual(tempsIn(await list(dir)), []);
  assert.ok(
    outcomes.old > 0 && outcomes.new > 0,
    `both outcomes seen: ${JSON.stringify(outcomes)}`,
  );
});

Deno.test("a stale lock from a killed process is taken over; a live holder makes the run wait and fail clearly", async () => {
  await using source = await customSource({ "APP.KEY": "lock-test-value" });
  await using tmp = await tempVault("A: b\n");
  const { vault } = tmp;
  // A process that takes the flock on vault.yml.lock and sleeps, killed with SIGKILL.
  const holder = (ready: string) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const f = await Deno.open(${
          JSON.stringify(`${vault}.lock`)
        }, { write: true, create: true });
         await f.lock(true);
         await Deno.writeTextFile(${JSON.stringify(ready)}, "locked");
         await new Promise((r) => setTimeout(r, 60000));`,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
  const ready = `${vault}.ready`;
  const waitReady = async () => {
    for (let i = 0; i < 200; i++) {
      if ((await readBytes(ready)) !== null) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("the lock holder did not start");
  };

  const live = holder(ready);
  await waitReady();
  const snap = await snapshot(vault);
  const blocked = await runTool([], {
    ...customEnv(source.script, vault),
    SECRETS_LOCK_TIMEOUT: "0.5",
  });
  await assertCleanFailure(blocked, snap, {
    code: 6,
    line: /another run holds the vault lock/,
    secrets: ["lock-test-value"],
  });

  live.kill("SIGKILL");
  await live.status;
  assert.ok((await readBytes(`${vault}.lock`)) !== null, "the lock file is still there");
  const started = Date.now();
  const after = await runTool([], {
    ...customEnv(source.script, vault),
    SECRETS_LOCK_TIMEOUT: "5",
  });
  assert.equal(after.code, 0, after.stderr);
  assert.ok(Date.now() - started < 5000, "taken over without waiting for the timeout");
  assert.match(await Deno.readTextFile(vault), /KEY: lock-test-value/);
});
