/**
 * The `run` mask benchmark (`make bench` runs it after the load benchmark): MB/s through
 * the streaming redactor with 1,000 and 10,000 registered values, for output without a
 * secret, with one in every line, and in small writes (best of three runs each); then
 * 100 MB through the real tool (`run --from-vault ... -- sh -c 'yes | head -c'`, stdout to
 * /dev/null) with its peak RSS.
 * Prints a Markdown section and puts it at the end of `bench/RESULTS.md` (after the load
 * benchmark's tables, replacing an earlier one).
 *
 * Environment: `BENCH_MASK_MB` (MB per in-process case, default 64), `BENCH_RUN_MB` (MB
 * through the tool, default 100; 0 skips it), `BENCH_OUT` (default `bench/RESULTS.md`).
 *
 * @module
 */

import { byteRedactor, pipeMasked } from "../lib/output/mask_stream.ts";
import { Redactor } from "../lib/output/redact.ts";
import { ROOT, RSS_METHOD, runTool } from "../tests/support/run_tool.ts";
import { tempVault } from "../tests/support/temp.ts";

const caseMb = Number(Deno.env.get("BENCH_MASK_MB") ?? 64);
const runMb = Number(Deno.env.get("BENCH_RUN_MB") ?? 100);
const out = Deno.env.get("BENCH_OUT") ?? `${ROOT}/bench/RESULTS.md`;
const HEADING = "## `run`: the streaming mask";
const encoder = new TextEncoder();

/** MB/s of `mb` MB of `line`s, in writes of `chunkBytes`, through a mask of `values`. */
async function throughput(
  values: string[],
  line: string,
  chunkBytes: number,
  mb: number,
): Promise<{ mbps: number; forms: number }> {
  const redactor = new Redactor();
  for (const value of values) redactor.add(value);
  const masks = byteRedactor(redactor);
  const bytes = encoder.encode(line);
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

const rows: string[] = [];
for (const count of [1000, 10_000]) {
  const values = Array.from({ length: count }, (_, i) => `value-${i}-${crypto.randomUUID()}`);
  const plain = `2026-12-01T10:00:00Z INFO step ${"x".repeat(40)} processed rows=12345 ok\n`;
  const leaky = `2026-12-01T10:00:00Z INFO connecting with password=${values[7]} ok\n`;
  const cases: [string, string, number][] = [
    ["log lines, no secret, 64 KB writes", plain, 64 * 1024],
    ["a secret in every line, 64 KB writes", leaky, 64 * 1024],
    ["a secret in every line, 100-byte writes", leaky, 100],
  ];
  for (const [what, line, chunkBytes] of cases) {
    const mb = chunkBytes < 1024 ? Math.max(1, caseMb / 16) : caseMb;
    // The best of three (after a warm-up run): the machine is shared, so slower runs
    // measure other work.
    await throughput(values, line, chunkBytes, Math.max(1, mb / 8));
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await throughput(values, line, chunkBytes, mb));
    const mbps = Math.max(...runs.map((run) => run.mbps));
    const forms = runs[0].forms;
    rows.push(
      `| ${count} values (${forms} forms) | ${what} | ${mbps.toFixed(1)} MB/s (best of 3) |`,
    );
    console.error(`bench: mask ${count} values, ${what}: ${mbps.toFixed(1)} MB/s`);
  }
}

let tool = "";
if (runMb > 0) {
  await using tmp = await tempVault('APP:\n  PLAIN: "plain-value-abcdef"\n');
  const env = { SECRETS_VAULT_PATH: tmp.vault };
  const command = (script: string) => ["run", "--from-vault", "APP", "--", "sh", "-c", script];
  const big = await runTool(
    command(`yes "${"x".repeat(90)} $PLAIN ok" | head -c ${runMb * 1024 * 1024}`),
    env,
    { stdout: "null", measure: true },
  );
  const small = await runTool(command("echo small"), env, { stdout: "null", measure: true });
  if (big.code !== 0 || small.code !== 0) throw new Error(`run failed: ${big.stderr}`);
  tool = `\n${runMb} MB through \`run\` (the real tool, stdout to /dev/null): ${
    (big.wallMs / 1000).toFixed(1)
  } s, ${(runMb / (big.wallMs / 1000)).toFixed(1)} MB/s end to end; peak RSS ${
    big.rssMb.toFixed(0)
  } MB vs ${small.rssMb.toFixed(0)} MB for a one-line output (${RSS_METHOD}).\n`;
}

const section = [
  HEADING,
  "",
  `${
    new Date().toISOString().slice(0, 10)
  }, \`deno run -A bench/mask_stream.ts\` (\`make bench\` runs it last).`,
  "",
  "| Registered | Output | Throughput |",
  "| ---------- | ------ | ---------- |",
  ...rows,
  tool,
].join("\n");
console.log(section);
const previous = await Deno.readTextFile(out).catch(() => "");
const kept = previous.includes(HEADING) ? previous.slice(0, previous.indexOf(HEADING)) : previous;
await Deno.writeTextFile(out, `${kept.trimEnd()}\n\n${section.trimEnd()}\n`);
