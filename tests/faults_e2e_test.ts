/**
 * Every network backend under injected faults: with 20% transient faults (throttling with
 * the backend's own error body, 503, connections cut, hung requests, truncated bodies,
 * broken JSON) the load succeeds and writes exactly the vault a fault-free run writes; with
 * a persistent fault it fails within the deadline with one line naming the backend, the
 * operation and the last cause, and the vault is untouched.
 */

import assert from "node:assert/strict";
import { assertNoLeak } from "./support/assertions.ts";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { readBytes, tempVault } from "./support/temp.ts";
import { type RunResult, runTool } from "./support/run_tool.ts";
import { type World, type WorldFaults, WORLDS } from "./support/fault_worlds.ts";
import { FAULT_KINDS, type FaultKind } from "./fakes/faults.ts";

async function runWorld(
  world: World,
  extra: Record<string, string> = {},
): Promise<{ result: RunResult; vault: string } & AsyncDisposable> {
  const tmp = await tempVault(world.vault);
  const { vault } = tmp;
  const result = await runTool([], { ...world.env, SECRETS_VAULT_PATH: vault, ...extra });
  return { result, vault, [Symbol.asyncDispose]: tmp[Symbol.asyncDispose] };
}

async function withWorld<T>(
  start: (faults?: WorldFaults) => World,
  faults: WorldFaults | undefined,
  body: (world: World) => Promise<T>,
): Promise<T> {
  await using world = start(faults);
  return await body(world);
}

const PERSISTENT: Record<string, FaultKind> = {
  "AWS Secrets Manager": "unavailable",
  "AWS SSM Parameter Store": "truncate",
  "Azure Key Vault": "hang",
  "HashiCorp Vault": "throttle",
};

for (const spec of WORLDS) {
  Deno.test(`${spec.name}: 20% transient faults, then every kind in a row, same vault as without faults`, async () => {
    const clean = await withWorld(spec.start, undefined, async (world) => {
      await using run = await runWorld(world);
      const { result, vault } = run;
      assert.equal(result.code, 0, result.stderr);
      return { bytes: await readBytes(vault), served: world.served() };
    });
    await withWorld(spec.start, { seed: 20260, rate: 0.2 }, async (world) => {
      await using run = await runWorld(world);
      const { result, vault } = run;
      assert.equal(result.code, 0, result.stderr);
      assertNoLeak(result, world.secrets());
      const injected = totals(world);
      assert.ok(injected.all >= 2, `faults were injected: ${JSON.stringify(injected)}`);
      assert.deepEqual(await readBytes(vault), clean.bytes, "byte-identical vault");
    });
    // The first request meets each kind once, in a row: 6 failures, then success.
    await withWorld(spec.start, { seed: 1, rate: 0, sequence: FAULT_KINDS }, async (world) => {
      await using run = await runWorld(world);
      const { result, vault } = run;
      assert.equal(result.code, 0, result.stderr);
      assertNoLeak(result, world.secrets());
      for (const kind of FAULT_KINDS) {
        assert.equal(totals(world).kinds[kind], 1, `${kind} injected once`);
      }
      // The first fault is a throttle; where the backend sends Retry-After: 1 (429), the
      // retry waits for it.
      const main = world.faults[world.faults.length - 1].counters.timeline;
      assert.equal(main[0].kind, "throttle");
      if (world.label !== "AWS Secrets Manager" && world.label !== "AWS SSM Parameter Store") {
        const gap = main[1].at - main[0].at;
        assert.ok(gap >= 950, `Retry-After honoured: next request after ${gap} ms`);
      }
      assert.deepEqual(await readBytes(vault), clean.bytes, "byte-identical vault");
    });
  });

  const kind = PERSISTENT[spec.name];
  Deno.test(`${spec.name}: a persistent fault (${kind}) fails within the deadline, vault untouched`, async () => {
    await withWorld(
      spec.start,
      { seed: 1, rate: 1, kinds: [kind], mainOnly: true },
      async (world) => {
        await using tmp = await tempVault(world.vault);
        const { vault } = tmp;
        const snap = await snapshot(vault);
        const started = Date.now();
        const result = await runTool([], {
          ...world.env,
          SECRETS_VAULT_PATH: vault,
          SECRETS_TIMEOUT: "2",
          SECRETS_REQUEST_TIMEOUT: "0.5",
        });
        const took = Date.now() - started;
        await assertCleanFailure(result, snap, {
          code: 4,
          line: causeOf(world.label, kind),
          secrets: world.secrets(),
        });
        assert.ok(took < 2000 + 2500, `failed within the deadline (+ start-up): ${took} ms`);
      },
    );
  });
}

function causeOf(label: string, kind: FaultKind): RegExp {
  const cause = {
    throttle: "Throttl|429",
    unavailable: "503",
    reset: "network error",
    hang: "no answer within",
    truncate: "network error|cut off|not complete",
    malformed: "JSON",
  }[kind];
  return new RegExp(`${label.split(" ")[0]}.*(${cause})`);
}

function totals(world: World): { all: number; kinds: Record<string, number> } {
  const kinds: Record<string, number> = {};
  let all = 0;
  for (const faulty of world.faults) {
    for (const [kind, n] of Object.entries(faulty.counters.injected)) {
      kinds[kind] = (kinds[kind] ?? 0) + n;
      all += n;
    }
  }
  return { all, kinds };
}
