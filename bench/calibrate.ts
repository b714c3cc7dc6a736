/**
 * Calibration of the harness: what a bare HTTP round trip costs on this machine at the
 * injected latency, measured the way the benchmark runs the tool: a bare `Deno.serve`
 * that only waits L in this process (where the fakes run) as the fakes do, and a bare `fetch` client in
 * a process of its own (`bench/bare_client.ts`). The difference between its round trip
 * and L is what the machine adds before any tool or fake logic runs.
 *
 * @module
 */

import type { BareResult } from "./bare_client.ts";
import { latencyWait } from "../tests/fakes/server.ts";

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
  /** The burst's time per round of `concurrency` requests: the effective latency, in ms. */
  roundMs: number;
}

/** Measure a bare round trip and a bare burst at `latencyMs`. */
export async function calibrate(
  latencyMs: number,
  requests: number,
  concurrency: number,
): Promise<Calibration> {
  const body = JSON.stringify({ data: { data: { VALUE: "x".repeat(64) } } });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await latencyWait(latencyMs);
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  const host = `127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-net=${host}`,
        new URL("./bare_client.ts", import.meta.url).pathname,
        `http://${host}/`,
        String(requests),
        String(concurrency),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`bare client failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    const result: BareResult = JSON.parse(new TextDecoder().decode(output.stdout));
    return {
      ...result,
      requests,
      concurrency,
      roundMs: result.burstMs / Math.ceil(requests / concurrency),
    };
  } finally {
    await server.shutdown();
  }
}
