/**
 * The measurements behind the benchmark's target table that the per-backend loads do not
 * give: the runtime's own start-up (`deno run` of an empty script), a `NONE` load, the
 * reload of a large single mapping, redaction of one long line against many values
 * sharing a prefix, and the `run` mask's throughput.
 *
 * @module
 */

import { RUN_FLAGS } from "../tests/support/run_tool.ts";
import { customSource } from "../tests/support/custom_source.ts";
import { Redactor } from "../lib/output/redact.ts";
import { byteRedactor, pipeMasked } from "../lib/output/mask_stream.ts";
import { median, runTool } from "./tool.ts";

/** One row of the target table. */
export interface TargetRow {
  /** What is measured. */
  what: string;
  /** The figure, formatted. */
  measured: string;
  /** The target, formatted. */
  target: string;
  /** Whether the target is met (undefined: informational). */
  ok?: boolean;
  /** How it was measured (command, formula). */
  how: string;
}

const TIME = "/usr/bin/time";

/**
 * `deno run` (the tool's flags) of an empty script: the runtime's floor for any start-up,
 * spawned the way the tool's runs are (through `/usr/bin/time` when present). Median of 7.
 */
export async function emptyScriptMs(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-bench-" });
  try {
    const script = `${dir}/empty.ts`;
    await Deno.writeTextFile(script, "\n");
    let hasTime = false;
    try {
      hasTime = Deno.statSync(TIME).isFile;
    } catch {
      // no /usr/bin/time: spawn deno directly
    }
    const args = ["run", ...RUN_FLAGS, script];
    const runs: number[] = [];
    for (let i = 0; i < 7; i++) {
      const start = performance.now();
      const out = await new Deno.Command(hasTime ? TIME : Deno.execPath(), {
        args: hasTime ? ["-o", "/dev/null", Deno.execPath(), ...args] : args,
        stdout: "null",
        stderr: "null",
      }).output();
      if (!out.success) throw new Error("deno run of an empty script failed");
      runs.push(performance.now() - start);
    }
    return median(runs);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A `SECRETS_MANAGER=NONE` load of an existing small vault (and its manifest). Median of 7. */
export async function noneLoadMs(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-bench-" });
  try {
    const vault = `${dir}/vault.yml`;
    await Deno.writeTextFile(vault, "APP:\n  DB:\n    USER: app\n    PASSWORD: bench-pw-1\n");
    const env = { SECRETS_MANAGER: "NONE", SECRETS_VAULT_PATH: vault };
    const runs: number[] = [];
    for (let i = 0; i < 8; i++) {
      const run = await runTool([], env);
      if (run.code !== 0) throw new Error(`NONE load: exit ${run.code}\n${run.stderr}`);
      // The first run writes the manifest; the rest load an existing vault as CI does.
      if (i > 0) runs.push(run.wallMs);
    }
    return median(runs);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A first load and a reload of a large single mapping (custom backend). */
export interface Reload {
  /** Wall time of the first load of `n` keys into an empty vault. */
  firstMs: number;
  /** Wall time of loading the `n` keys again (plus `added` new ones). */
  reloadMs: number;
}

/**
 * Load `n` keys that sit in one mapping (`BIG.KEY00001` ...) into an empty vault, then load
 * them again unchanged plus `added` new keys: the reload re-reads, plans and (when a key
 * was added) rewrites the whole mapping.
 */
export async function reload(n: number, added: number): Promise<Reload> {
  const data: Record<string, string> = {};
  for (let i = 0; i < n; i++) data[`BIG.KEY${String(i).padStart(6, "0")}`] = `v-${i}-${i * 7919}`;
  await using source = await customSource(data);
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-bench-" });
  try {
    const env = {
      SECRETS_MANAGER: "CUSTOM",
      SECRETS_CUSTOM_SCRIPT: source.script,
      SECRETS_VAULT_PATH: `${dir}/vault.yml`,
      SECRETS_TIMEOUT: "600",
    };
    const first = await runTool([], env);
    if (first.code !== 0) throw new Error(`reload ${n}: first load exit ${first.code}`);
    for (let i = n; i < n + added; i++) data[`BIG.KEY${String(i).padStart(6, "0")}`] = `new-${i}`;
    await source.set(data);
    const again = await runTool([], env);
    if (again.code !== 0) throw new Error(`reload ${n}: reload exit ${again.code}`);
    return { firstMs: first.wallMs, reloadMs: again.wallMs };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The tool's `Redactor` with `values` values sharing one 4-character prefix, masking one
 * line of `lineKb` KB of script output that mentions the prefix everywhere and some values.
 * Median of 3, in milliseconds.
 */
export function redactionMs(values: number, lineKb: number): number {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const word = (length: number) =>
    Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
  const secrets = Array.from({ length: values }, (_, i) => `pfx_${word(8 + (i % 120))}`);
  let line = "";
  while (line.length < lineKb * 1024) {
    line += random() < 0.01 ? secrets[Math.floor(random() * values)] : `pfx_${word(3)} `;
  }
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const redactor = new Redactor();
    for (const secret of secrets) redactor.add(secret);
    const start = performance.now();
    const out = redactor.redact(line);
    runs.push(performance.now() - start);
    // Values hold no "_" past their prefix, so no two can overlap: every one is masked.
    if (secrets.some((secret) => out.includes(secret))) {
      throw new Error("redaction benchmark: a value was not masked");
    }
  }
  return median(runs);
}

/**
 * The values and output lines of the mask benchmark: `count` registered values, a log line
 * holding none of them, and one holding a value.
 */
export function maskLines(count: number): { values: string[]; plain: string; leaky: string } {
  const values = Array.from({ length: count }, (_, i) => `value-${i}-${crypto.randomUUID()}`);
  return {
    values,
    plain: `2026-12-01T10:00:00Z INFO step ${"x".repeat(40)} processed rows=12345 ok\n`,
    leaky: `2026-12-01T10:00:00Z INFO connecting with password=${values[7]} ok\n`,
  };
}

/** MB/s of `mb` MB of `line`s, in writes of `chunkBytes`, through a mask of `values`. */
async function throughputOnce(
  values: string[],
  line: string,
  chunkBytes: number,
  mb: number,
): Promise<{ mbps: number; forms: number }> {
  const redactor = new Redactor();
  for (const value of values) redactor.add(value);
  const masks = byteRedactor(redactor);
  const bytes = new TextEncoder().encode(line);
  const chunk = new Uint8Array(chunkBytes);
  for (let at = 0; at < chunk.length; at += bytes.length) {
    chunk.set(bytes.subarray(0, Math.min(bytes.length, chunk.length - at)), at);
  }
  const chunks = Math.ceil((mb * 1024 * 1024) / chunk.length);
  let sent = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ >= chunks) controller.close();
      else controller.enqueue(chunk);
    },
  });
  const start = performance.now();
  await pipeMasked(source, { redactor: masks, write: () => Promise.resolve(), flushMs: 100 });
  return { mbps: mb / ((performance.now() - start) / 1000), forms: masks.size };
}

/**
 * MB/s of `run`'s mask (`pipeMasked`, in process, the writes discarded) for `mb` MB of
 * `line`s in writes of `chunkBytes` with `values` registered: the best of three after a
 * warm-up run (the machine is shared, so slower runs measure other work).
 */
export async function maskThroughput(
  values: string[],
  line: string,
  chunkBytes: number,
  mb: number,
): Promise<{ mbps: number; forms: number }> {
  await throughputOnce(values, line, chunkBytes, Math.max(1, mb / 8));
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await throughputOnce(values, line, chunkBytes, mb));
  return { mbps: Math.max(...runs.map((run) => run.mbps)), forms: runs[0].forms };
}
