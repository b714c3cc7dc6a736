/**
 * The AWS page chain (`providers/aws/pages.ts`) over a real socket: each next page is on
 * the wire before the work the current page starts.
 */

import assert from "node:assert/strict";
import { followPages } from "../providers/aws/pages.ts";

// A server on a thread of its own that answers with when each request reached it.
const TIMING_SERVER = `
Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => self.postMessage(port) },
  () => Response.json({ at: performance.timeOrigin + performance.now() }));
`;

Deno.test("followPages: the next page's request reaches the server while the page's work is still running", async () => {
  const worker = new Worker(
    URL.createObjectURL(new Blob([TIMING_SERVER], { type: "application/javascript" })),
    { type: "module" },
  );
  const port = await new Promise<number>((resolve) => worker.onmessage = (e) => resolve(e.data));
  const now = () => performance.timeOrigin + performance.now();
  const busyUntil: number[] = [];
  const arrived: number[] = [];
  try {
    await followPages<{ NextToken?: string; n: number }>({
      operation: "Test List",
      async request(token) {
        const n = token === undefined ? 0 : Number(token);
        const { at } = await (await fetch(`http://127.0.0.1:${port}/?page=${n}`)).json();
        arrived[n] = at;
        return { n, ...(n < 3 ? { NextToken: String(n + 1) } : {}) };
      },
      entries: () => 1,
      onPage(page) {
        // The work a page starts (value reads), standing in as 50 ms of this thread's time.
        const end = now() + 50;
        while (now() < end) { /* busy */ }
        busyUntil[page.n] = end;
      },
      fail: (error) => {
        throw error;
      },
      failed: () => false,
    });
  } finally {
    worker.terminate();
  }
  for (let n = 1; n <= 3; n++) {
    assert.ok(
      arrived[n] < busyUntil[n - 1],
      `page ${n} reached the server ${(arrived[n] - busyUntil[n - 1]).toFixed(1)} ms after page ${
        n - 1
      }'s work ended`,
    );
  }
});
