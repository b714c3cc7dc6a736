/**
 * Calibration of the harness: what a bare HTTP round trip costs on this machine at the
 * injected latency (a bare `Deno.serve` that only sleeps, a bare `fetch` loop), so the
 * benchmark can tell the tool's overhead from the machine's.
 *
 * @module
 */

import { median } from "./tool.ts";

/** What a bare client and server achieve. */
export interface Calibration {
  /** One sequential round trip, median of 30, in ms. */
  roundTripMs: number;
  /** `requests` requests with `concurrency` in flight, in ms. */
  burstMs: number;
  /** The burst's size. */
  requests: number;
  /** The burst's concurrency. */
  concurrency: number;
}

/** Measure a bare round trip and a bare burst at `latencyMs`. */
export async function calibrate(
  latencyMs: number,
  requests: number,
  concurrency: number,
): Promise<Calibration> {
  const body = JSON.stringify({ data: { data: { VALUE: "x".repeat(64) } } });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await new Promise((resolve) => setTimeout(resolve, latencyMs));
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/`;
  try {
    const trips: number[] = [];
    for (let i = 0; i < 30; i++) {
      const start = performance.now();
      await (await fetch(url)).json();
      trips.push(performance.now() - start);
    }
    let next = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        await (await fetch(url)).json();
      }
    }));
    return {
      roundTripMs: median(trips),
      burstMs: performance.now() - start,
      requests,
      concurrency,
    };
  } finally {
    await server.shutdown();
  }
}
