/**
 * The load benchmark (`make bench`): for each backend and fixture size, runs the real
 * load path (`deno run -P main.ts`) against the fake with injected latency and the
 * documented rate limits, and reports wall time, requests, peak concurrency seen by the
 * fake, throttled answers, peak RSS and the round-trip floor with its formula; times a
 * naive sequential client on the same fake; and `--version` start-up. Writes the table
 * to `bench/RESULTS.md` and prints it.
 *
 * Environment: `BENCH_SIZES` (default `100,1000,10000`), `BENCH_LATENCY_MS` (10),
 * `BENCH_BACKENDS` (`sm,ssm,kv,vault,custom`), `BENCH_NAIVE_MAX` (largest size the naive
 * client runs at, default 1000), `BENCH_OUT` (default `bench/RESULTS.md`).
 *
 * @module
 */

import { parse } from "yaml";
import { ROOT } from "../tests/support/run_tool.ts";
import { type Backend, BACKENDS, networkMs } from "./backends.ts";
import { median, RSS_METHOD, runTool } from "./tool.ts";
import { calibrate, type Calibration } from "./calibrate.ts";

const sizes = (Deno.env.get("BENCH_SIZES") ?? "100,1000,10000").split(",").map(Number);
const latencyMs = Number(Deno.env.get("BENCH_LATENCY_MS") ?? 10);
const wanted = (Deno.env.get("BENCH_BACKENDS") ?? "sm,ssm,kv,vault,custom").split(",");
const naiveMax = Number(Deno.env.get("BENCH_NAIVE_MAX") ?? 1000);
const out = Deno.env.get("BENCH_OUT") ?? `${ROOT}/bench/RESULTS.md`;
const backends = BACKENDS.filter((b) => wanted.includes(b.id));

const log = (line: string) => console.error(`bench: ${line}`);
const ms = (value: number) => Number.isNaN(value) ? "n/a" : `${Math.round(value)} ms`;

function countLeaves(node: unknown): number {
  if (typeof node !== "object" || node === null) return 1;
  return Object.values(node).reduce((n: number, child) => n + countLeaves(child), 0);
}

interface Row {
  backend: Backend;
  n: number;
  wallMs: number;
  /** First request to last answer, as the fakes saw it. */
  networkMs: number;
  floorMs: number;
  formula: string;
  /** The floor at the harness's measured round (`cal.roundMs`) instead of L. */
  harnessFloorMs: number;
  fixedMs: number;
  requests: number;
  peak: number;
  throttled: number;
  rssMb: number;
  naiveMs: number;
  naiveRequests: number;
}

/** One load of `n` secrets on a fresh fixture (rate-limit windows start empty). */
async function measureOnce(backend: Backend, n: number, latency: number, naive: boolean) {
  const fixture = await backend.start(n, latency);
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-bench-" });
  try {
    const vault = `${dir}/vault.yml`;
    if (fixture.vaultText !== undefined) await Deno.writeTextFile(vault, fixture.vaultText);
    const run = await runTool([], {
      ...fixture.env,
      SECRETS_VAULT_PATH: vault,
      SECRETS_TIMEOUT: "600",
    });
    if (run.code !== 0) {
      throw new Error(`${backend.label} ${n}: exit ${run.code}\n${run.stderr.slice(-2000)}`);
    }
    const keys = countLeaves(parse(await Deno.readTextFile(vault)));
    if (keys !== fixture.keys) {
      throw new Error(
        `${backend.label} ${n}: the vault has ${keys} keys, expected ${fixture.keys}`,
      );
    }
    const network = networkMs(fixture.servers);
    const requests = fixture.server?.requests ?? 0;
    const peak = fixture.server?.peakConcurrency ?? 0;
    const throttled = fixture.throttled();
    let naiveMs = Number.NaN;
    let naiveRequests = Number.NaN;
    if (naive) {
      // The naive client gets a fixture of its own too: a clean rate-limit window.
      await fixture.close();
      const fresh = await backend.start(n, latency);
      try {
        const start = performance.now();
        const read = await fresh.naive();
        if (!Number.isNaN(read)) {
          naiveMs = performance.now() - start;
          naiveRequests = fresh.server?.requests ?? 0;
          if (read !== n) throw new Error(`${backend.label} ${n}: naive client read ${read}`);
        }
      } finally {
        await fresh.close();
      }
    }
    return {
      wallMs: run.wallMs,
      networkMs: network,
      rssMb: run.rssMb,
      requests,
      peak,
      throttled,
      naiveMs,
      naiveRequests,
    };
  } finally {
    if (!naive) await fixture.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A load of `n` secrets: the median of 3 up to 1,000 secrets (short runs on a shared
 * machine are noisy), one load above; the naive client runs once.
 */
async function measure(backend: Backend, n: number, latency: number, naive: boolean) {
  const repeat = n <= 1000 && latency > 0 ? 3 : 1;
  const runs = [await measureOnce(backend, n, latency, naive)];
  for (let i = 1; i < repeat; i++) runs.push(await measureOnce(backend, n, latency, false));
  const wallMs = median(runs.map((r) => r.wallMs));
  return {
    ...runs[0],
    wallMs,
    networkMs: median(runs.map((r) => r.networkMs)),
    rssMb: Math.max(...runs.map((r) => r.rssMb)),
    peak: Math.max(...runs.map((r) => r.peak)),
    throttled: runs.reduce((sum, r) => sum + r.throttled, 0),
  };
}

async function startup(): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const run = await runTool(["--version"], {});
    if (run.code !== 0) throw new Error(`--version: exit ${run.code}\n${run.stderr}`);
    runs.push(run.wallMs);
  }
  return median(runs);
}

const started = performance.now();
const cores = navigator.hardwareConcurrency;
log(`sizes ${sizes.join(", ")}; latency ${latencyMs} ms; backends ${wanted.join(", ")}`);
const startupMs = await startup();
log(`--version start-up: ${ms(startupMs)} (median of 7)`);
// The harness at each default concurrency in use: 100 rounds of bare requests.
const cals = new Map<number, Calibration>();
const networked = backends.filter((b) => b.floor(1000, latencyMs).ms > 0);
for (const concurrency of [...new Set(networked.map((b) => b.concurrency))].sort((a, b) => a - b)) {
  const cal = await calibrate(latencyMs, 100 * concurrency, concurrency);
  cals.set(concurrency, cal);
  log(
    `harness: bare round trip ${
      cal.roundTripMs.toFixed(1)
    } ms; ${cal.requests} bare requests at ${concurrency}: ${ms(cal.burstMs)} (${
      cal.roundMs.toFixed(1)
    } ms a round)`,
  );
}

const rows: Row[] = [];
for (const backend of backends) {
  // The fixed cost of a load (process and Worker start, auth, vault write) with no latency.
  const fixedRuns: number[] = [];
  for (let i = 0; i < 3; i++) fixedRuns.push((await measure(backend, 1, 0, false)).wallMs);
  const fixedMs = median(fixedRuns);
  log(`${backend.label}: fixed cost ${ms(fixedMs)}`);
  for (const n of sizes) {
    const m = await measure(backend, n, latencyMs, n <= naiveMax);
    const floor = backend.floor(n, latencyMs);
    const round = cals.get(backend.concurrency)?.roundMs;
    const harnessFloorMs = latencyMs > 0 && round ? backend.floor(n, round).ms : floor.ms;
    rows.push({
      backend,
      n,
      ...m,
      floorMs: floor.ms,
      formula: floor.formula,
      harnessFloorMs,
      fixedMs,
    });
    log(
      `${backend.label} ${n}: ${ms(m.wallMs)} (floor ${ms(floor.ms)} + fixed ${
        ms(fixedMs)
      }), ${m.requests} requests, peak ${m.peak}, throttled ${m.throttled}, RSS ${
        m.rssMb.toFixed(0)
      } MB, naive ${ms(m.naiveMs)}`,
    );
  }
}

const ratio = (a: number, b: number) =>
  b > 0 && !Number.isNaN(a) ? `${(a / b).toFixed(2)}×` : "n/a";
const mark = (ok: boolean) => ok ? "✅" : "❌";
const table = [
  "| Backend | N | Wall | Fixed | Floor | Wall ÷ floor | Wall ÷ (floor + fixed) | Network | Network ÷ floor | Harness floor | Network ÷ harness floor | Requests | Peak in flight | Throttled | Peak RSS | Naive sequential | Speed-up |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map((r) => {
    const judged = r.n >= 1000 && r.floorMs > 0;
    // A ratio with its mark against the 1.25× target, at the sizes the target names.
    const vs = (value: number, floor: number) =>
      `${ratio(value, floor)}${
        judged && !Number.isNaN(value) ? ` ${mark(value <= 1.25 * floor)}` : ""
      }`;
    const speedup = r.naiveMs / r.wallMs;
    return [
      "",
      r.backend.label,
      r.n.toLocaleString("en"),
      ms(r.wallMs),
      ms(r.fixedMs),
      ms(r.floorMs),
      vs(r.wallMs, r.floorMs),
      vs(r.wallMs, r.floorMs + r.fixedMs),
      ms(r.networkMs),
      vs(r.networkMs, r.floorMs),
      ms(r.harnessFloorMs),
      vs(r.networkMs, r.harnessFloorMs),
      r.requests,
      r.peak,
      r.throttled,
      `${r.rssMb.toFixed(0)} MB${r.n >= 10_000 ? ` ${mark(r.rssMb < 150)}` : ""}`,
      `${ms(r.naiveMs)}${Number.isNaN(r.naiveRequests) ? "" : ` (${r.naiveRequests} req.)`}`,
      `${Number.isNaN(speedup) ? "n/a" : `${speedup.toFixed(1)}×`}${
        r.n === 1000 && !Number.isNaN(speedup) ? ` ${mark(speedup >= 10)}` : ""
      }`,
      "",
    ].join(" | ").trim();
  }),
].join("\n");

const formulas = backends.map((b) => {
  const lines = rows.filter((r) => r.backend === b).map((r) =>
    `  - N = ${r.n.toLocaleString("en")}: ${r.formula} → **${ms(r.floorMs)}**`
  );
  return `- ${b.label} (default concurrency ${b.concurrency}):\n${lines.join("\n")}`;
}).join("\n");

const report = `# Load benchmark results

Generated by \`make bench\` (\`bench/main.ts\`) on ${new Date().toISOString().slice(0, 16)}Z,
${cores} cores, Deno ${Deno.version.deno}. Latency injected per request: **L = ${latencyMs} ms**.
Every load is \`deno run -P main.ts\` (production permissions) against the fakes of
\`tests/fakes/\` with the documented rate limits enforced (\`tests/fakes/limits.ts\`); the
vault it writes is checked for every key. Total benchmark time: ${
  Math.round((performance.now() - started) / 1000)
} s.

- **Start-up** (\`main.ts --version\`, median of 7): **${ms(startupMs)}** ${mark(startupMs < 100)}
- **Floor**: the fewest sequential round trips the API allows (page and batch sizes, the
  default concurrency, the documented rate limits) × L; formulas below. The target is
  1.25× the floor at 1,000 and 10,000 secrets; each ratio below is marked against it.
- **Wall**: spawn to exit, median of 3 loads (each on a fresh fake) up to 1,000 secrets, one
  at 10,000. **Wall ÷ floor** is the target as written; it counts start-up and the vault
  write, which no API floor includes.
- **Fixed**: the wall time of the same load with 1 secret and no latency (median of 3):
  process and Worker start-up, module loading, credentials, vault write. **Wall ÷ (floor +
  fixed)** charges the floor with this cost, which does not shrink with fewer round trips.
- **Network**: from the first request to reach a fake to the last answer it gave (median of
  the same loads): the part of the load the floor bounds. **Network ÷ floor** compares it
  with the floor alone.
- **Harness** (a bare \`Deno.serve\` in this process that only sleeps L, as the fakes do, and
  a bare \`fetch\` client in a process of its own, as the tool is): one sequential round trip
  takes **${[...cals.values()][0]?.roundTripMs.toFixed(1)} ms** at L = ${latencyMs} ms; ${
  [...cals.values()].map((c) =>
    `${c.requests.toLocaleString("en")} requests with ${c.concurrency} in flight take ${
      ms(c.burstMs)
    } (${ms(Math.ceil(c.requests / c.concurrency) * latencyMs)} at L), **${
      c.roundMs.toFixed(1)
    } ms a round**`
  ).join("; ")
}. This is what this ${cores}-core machine gives before any tool or fake logic runs: timers
  fire late, and the answers of a round are handled one after another by the server and then
  by the client.
- **Harness floor**: the same floor formula with the measured round at the backend's
  default concurrency in place of L: the floor at the round trip this harness actually
  delivers. **Network ÷ harness floor** compares the tool's network time with it: what is
  left is the tool's own overhead (and the fakes' work beyond L).
- **Fakes**: an answer leaves L after its request arrived, or when the fake's handler is
  done if that takes longer: L stands in for the whole round trip of the service, its
  processing included (\`tests/fakes/server.ts\`).
- **Peak RSS**: ${RSS_METHOD}.
- **Naive sequential**: one request at a time on the same fake in the same run: list page
  by page, then read each secret one by one (retrying throttled calls as SDKs do).
  Speed-up = naive ÷ wall.

${table}

Floors (L = ${latencyMs} ms):

${formulas}
`;

await Deno.writeTextFile(out, report);
// `make check` runs `deno fmt --check`: the report is written formatted, and printed so.
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", out], stdout: "null" }).output();
console.log(await Deno.readTextFile(out));
