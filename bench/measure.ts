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

/** A load's time net of start-up, from loads paired with one-secret loads. */
export interface PairedNet {
  /** The median over the pairs of (wall − fixed). */
  netMs: number;
  /** The median wall time of the loads. */
  wallMs: number;
  /** The median wall time of their one-secret loads. */
  fixedMs: number;
  /** The median network time of the loads. */
  networkMs: number;
  /** Throttled answers over all the loads. */
  throttled: number;
}

/**
 * The time a load of `n` secrets at `latency` takes beyond the backend's fixed cost: each
 * of `pairs` loads runs right after a one-secret load at 0 ms latency on a fixture of its
 * own, and the differences are taken pair by pair. A difference of two medians measured
 * minutes apart moves with the machine's load between them (±30% on a shared machine, as
 * much as the figure itself at 1,000 secrets); adjacent runs see the same minute.
 */
export async function pairedNet(
  backend: Backend,
  n: number,
  latency: number,
  pairs = 5,
): Promise<PairedNet> {
  const fixed: number[] = [];
  const loads: Measured[] = [];
  for (let i = 0; i < pairs; i++) {
    fixed.push((await measureOnce(backend, 1, 0, false)).wallMs);
    loads.push(await measureOnce(backend, n, latency, false));
  }
  return {
    netMs: median(loads.map((load, i) => Math.max(0, load.wallMs - fixed[i]))),
    wallMs: median(loads.map((load) => load.wallMs)),
    fixedMs: median(fixed),
    networkMs: median(loads.map((load) => load.networkMs)),
    throttled: loads.reduce((sum, load) => sum + load.throttled, 0),
  };
}
