/**
 * The bare client of the harness calibration, run as its own process (as the tool is):
 * `deno run --allow-net=HOST bench/bare_client.ts URL REQUESTS CONCURRENCY`. It times 30
 * sequential round trips, then `REQUESTS` requests with `CONCURRENCY` in flight, using
 * nothing but `fetch` and `Response.json`, and prints the result as JSON on stdout.
 *
 * @module
 */

/** What the bare client prints. */
export interface BareResult {
  /** One sequential round trip, median of 30, in ms. */
  roundTripMs: number;
  /** The burst, in ms. */
  burstMs: number;
}

async function main(url: string, requests: number, concurrency: number): Promise<BareResult> {
  const trips: number[] = [];
  for (let i = 0; i < 30; i++) {
    const start = performance.now();
    await (await fetch(url)).json();
    trips.push(performance.now() - start);
  }
  trips.sort((a, b) => a - b);
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      next++;
      await (await fetch(url)).json();
    }
  }));
  return { roundTripMs: trips[15], burstMs: performance.now() - start };
}

if (import.meta.main) {
  const [url, requests, concurrency] = Deno.args;
  console.log(JSON.stringify(await main(url, Number(requests), Number(concurrency))));
}
