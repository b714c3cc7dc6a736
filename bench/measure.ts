/**
 * One measured load: the real tool on a fresh fixture, its vault checked key by key, with
 * its wall time, network time, requests, peak concurrency, throttling and RSS; and the
 * naive sequential client on a fixture of its own.
 *
 * @module
 */

import { parse } from "yaml";
import { type Backend, networkMs } from "./backends.ts";
import { median, runTool } from "./tool.ts";

/** How many leaves a parsed vault has. */
export function countLeaves(node: unknown): number {
  if (typeof node !== "object" || node === null) return 1;
  return Object.values(node).reduce((n: number, child) => n + countLeaves(child), 0);
}

/** What one load (or the median of a few) gave. */
export interface Measured {
  /** Spawn to exit. */
  wallMs: number;
  /** First request to last answer, as the fakes saw it. */
  networkMs: number;
  /** Peak resident set size. */
  rssMb: number;
  /** Requests the fake served. */
  requests: number;
  /** Most requests in flight at once. */
  peak: number;
  /** Throttled answers. */
  throttled: number;
  /** The naive sequential client's time (NaN when it did not run). */
  naiveMs: number;
  /** The naive client's requests. */
  naiveRequests: number;
}

/** One load of `n` secrets on a fresh fixture (rate-limit windows start empty). */
export async function measureOnce(
  backend: Backend,
  n: number,
  latency: number,
  naive: boolean,
): Promise<Measured> {
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
export async function measure(
  backend: Backend,
  n: number,
  latency: number,
  naive: boolean,
): Promise<Measured> {
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

/** `--version` start-up: the median of 7 runs. */
export async function startup(): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const run = await runTool(["--version"], {});
    if (run.code !== 0) throw new Error(`--version: exit ${run.code}\n${run.stderr}`);
    runs.push(run.wallMs);
  }
  return median(runs);
}
