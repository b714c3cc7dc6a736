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

import { ROOT, RSS_METHOD, runTool } from "../tests/support/run_tool.ts";
import { tempVault } from "../tests/support/temp.ts";
import { maskLines, maskThroughput } from "./targets.ts";

const caseMb = Number(Deno.env.get("BENCH_MASK_MB") ?? 64);
const runMb = Number(Deno.env.get("BENCH_RUN_MB") ?? 100);
const out = Deno.env.get("BENCH_OUT") ?? `${ROOT}/bench/RESULTS.md`;
const HEADING = "## `run`: the streaming mask";

const rows: string[] = [];
for (const count of [1000, 10_000]) {
  const { values, plain, leaky } = maskLines(count);
  const cases: [string, string, number][] = [
    ["log lines, no secret, 64 KB writes", plain, 64 * 1024],
    ["a secret in every line, 64 KB writes", leaky, 64 * 1024],
    ["a secret in every line, 100-byte writes", leaky, 100],
  ];
  for (const [what, line, chunkBytes] of cases) {
    const mb = chunkBytes < 1024 ? Math.max(1, caseMb / 16) : caseMb;
    const { mbps, forms } = await maskThroughput(values, line, chunkBytes, mb);
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
