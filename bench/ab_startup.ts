/**
 * A/B of the `SECRETS_MANAGER=NONE` start-up of two checkouts: loads of a small existing
 * vault, interleaved (A B, B A, ...) so both see the same minutes of a noisy machine, each
 * with the production permissions and run flags. Prints the median and the minimum of each.
 *
 * ```sh
 * git worktree add /tmp/before HEAD~1
 * deno run -A bench/ab_startup.ts /tmp/before . 31
 * ```
 *
 * @module
 */

import { RUN_FLAGS } from "../tests/support/run_tool.ts";
import { median } from "./tool.ts";

const [a, b, rounds = "21"] = Deno.args;
if (a === undefined || b === undefined || !(Number(rounds) > 0)) {
  console.error("usage: deno run -A bench/ab_startup.ts CHECKOUT_A CHECKOUT_B [ROUNDS]");
  Deno.exit(2);
}

async function load(root: string, vault: string): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...RUN_FLAGS, "--config", `${root}/deno.json`, `${root}/main.ts`],
    env: { SECRETS_MANAGER: "NONE", SECRETS_VAULT_PATH: vault, NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`${root}: ${new TextDecoder().decode(out.stderr)}`);
  return performance.now() - start;
}

const roots = [a, b];
const vaults = new Map<string, string>();
const times = new Map<string, number[]>(roots.map((root) => [root, []]));
for (const root of roots) {
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-ab-" });
  const vault = `${dir}/vault.yml`;
  await Deno.writeTextFile(vault, "A:\n  B: one\nC: two\n");
  vaults.set(root, vault);
  // The first load writes the manifest; the second warms the file cache.
  await load(root, vault);
  await load(root, vault);
}
for (let i = 0; i < Number(rounds); i++) {
  for (const root of i % 2 ? [a, b] : [b, a]) {
    times.get(root)!.push(await load(root, vaults.get(root)!));
  }
}
for (const root of roots) {
  const all = times.get(root)!;
  console.log(
    `${root}: median ${median(all).toFixed(1)} ms, min ${
      Math.min(...all).toFixed(1)
    } ms (${all.length} loads)`,
  );
}
for (const vault of vaults.values()) {
  await Deno.remove(vault.slice(0, vault.lastIndexOf("/")), { recursive: true });
}
