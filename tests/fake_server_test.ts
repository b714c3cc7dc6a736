/**
 * The fakes' added latency: an answer never leaves before L after its request arrived
 * (the floors of `make bench` count L per round trip, so an early one would flatter it).
 */

import assert from "node:assert/strict";
import { latencyWait, startFake } from "./fakes/server.ts";

Deno.test("latencyWait never ends early, whatever the timers do", async () => {
  // Enough waits that a timer firing early (it does, now and then) would be seen.
  for (const ms of [2, 3, 5]) {
    for (let i = 0; i < 60; i++) {
      const start = performance.now();
      await latencyWait(ms);
      const took = performance.now() - start;
      assert.ok(took >= ms, `${ms} ms took ${took.toFixed(3)} ms`);
    }
  }
});

Deno.test("a fake with latency answers no earlier than L after the request arrived", async () => {
  const fake = startFake(() => new Response("ok"), { latencyMs: 15 });
  try {
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await (await fetch(fake.url)).text();
      assert.ok(performance.now() - start >= 15);
    }
  } finally {
    await fake.close();
  }
});
