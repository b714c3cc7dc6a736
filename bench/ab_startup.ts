/**
 * A/B of the start-up of two checkouts: loads interleaved (A B, B A, ...) so both see the
 * same minutes of a noisy machine, each with the production permissions and run flags.
 * Without BACKEND, a `SECRETS_MANAGER=NONE` load of a small existing vault; with a
 * benchmark backend's id (`sm`, `ssm`, `ssm-higher`, `kv`, `vault`, `custom`), a one-secret
 * load from that backend's fake at 0 ms latency, into a fresh vault each time. Prints the
 * median and the minimum of each.
 *
 * ```sh
 * git worktree add /tmp/before HEAD~1
 * deno run -A bench/ab_startup.ts /tmp/before . 31
 * deno run -A bench/ab_startup.ts /tmp/before . 31 sm
 * ```
 *
 * @module
 */

import { RUN_FLAGS, toolEnv } from "../tests/support/run_tool.ts";
import { BACKENDS, type Fixture } from "./backends.ts";
import { median } from "./tool.ts";

const [a, b, rounds = "21", backendId] = Deno.args;
const backend = BACKENDS.find((candidate) => candidate.id === backendId);
if (
  a === undefined || b === undefined || !(Number(rounds) > 0) ||
  (backendId !== undefined && backend === undefined)
) {
  console.error(
    `usage: deno run -A bench/ab_startup.ts CHECKOUT_A CHECKOUT_B [ROUNDS] [${
      BACKENDS.map((candidate) => candidate.id).join("|")
    }]`,
  );
  Deno.exit(2);
}

const fixture: Fixture | undefined = await backend?.start(1, 0);
const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-ab-" });
const roots = [a, b];
let fresh = 0;

/** The vault of one load: the `NONE` load's own, or a fresh one with the fixture's text. */
async function vaultFor(root: string): Promise<string> {
  if (fixture === undefined) return `${dir}/${roots.indexOf(root)}.yml`;
  const vault = `${dir}/fresh-${fresh++}.yml`;
  if (fixture.vaultText !== undefined) await Deno.writeTextFile(vault, fixture.vaultText);
  return vault;
}

async function load(root: string): Promise<number> {
  const vault = await vaultFor(root);
  const env = toolEnv({
    ...(fixture?.env ?? { SECRETS_MANAGER: "NONE" }),
    SECRETS_VAULT_PATH: vault,
  });
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...RUN_FLAGS, "--config", `${root}/deno.json`, `${root}/main.ts`],
    env,
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`${root}: ${new TextDecoder().decode(out.stderr)}`);
  return performance.now() - start;
}

const times = new Map<string, number[]>(roots.map((root) => [root, []]));
try {
  if (fixture === undefined) {
    for (const root of roots) {
      await Deno.writeTextFile(await vaultFor(root), "A:\n  B: one\nC: two\n");
    }
  }
  // The first loads write the manifest, warm the file cache and the fake's own code.
  for (let i = 0; i < 2; i++) for (const root of roots) await load(root);
  for (let i = 0; i < Number(rounds); i++) {
    for (const root of i % 2 ? [a, b] : [b, a]) times.get(root)!.push(await load(root));
  }
} finally {
  await fixture?.close();
  await Deno.remove(dir, { recursive: true });
}
const what = backend === undefined ? "NONE load" : `one-secret load, ${backend.label}`;
for (const root of new Set(roots)) {
  const all = times.get(root)!;
  console.log(
    `${root}: ${what}: median ${median(all).toFixed(1)} ms, min ${
      Math.min(...all).toFixed(1)
    } ms (${all.length} loads)`,
  );
}
