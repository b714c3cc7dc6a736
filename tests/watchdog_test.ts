import assert from "node:assert/strict";
import { watchdog, WATCHDOG_TICK_MS, watchdogTicking } from "../lib/kit/watchdog.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Each test ends with no watch left, and checks that the shared tick stopped with it.

Deno.test("watchdog: fires once, not before its time and within a tick after it", async () => {
  const start = performance.now();
  const fired: number[] = [];
  const cancel = watchdog(40, () => fired.push(performance.now() - start));
  await sleep(40 + WATCHDOG_TICK_MS + 40);
  assert.equal(fired.length, 1);
  assert.ok(fired[0] >= 39, `fired after ${fired[0]} ms`);
  assert.ok(fired[0] <= 40 + WATCHDOG_TICK_MS + 30, `fired after ${fired[0]} ms`);
  assert.equal(watchdogTicking(), false);
  cancel(); // after firing: harmless
});

Deno.test("watchdog: a cancelled watch never fires; the others still do", async () => {
  let fired = 0;
  const cancels = Array.from({ length: 1000 }, () => watchdog(20, () => fired++));
  const kept = watchdog(20, () => fired += 1000);
  for (const cancel of cancels) cancel();
  assert.equal(watchdogTicking(), true);
  await sleep(20 + 2 * WATCHDOG_TICK_MS);
  assert.equal(fired, 1000);
  kept();
  assert.equal(watchdogTicking(), false);
  const cancel = watchdog(60_000, () => fired++);
  assert.equal(watchdogTicking(), true);
  cancel();
  assert.equal(watchdogTicking(), false);
});

Deno.test("watchdog: a watch added from a firing one is kept", async () => {
  const order: string[] = [];
  watchdog(10, () => {
    order.push("first");
    watchdog(10, () => order.push("second"));
  });
  await sleep(20 + 3 * WATCHDOG_TICK_MS);
  assert.deepEqual(order, ["first", "second"]);
  assert.equal(watchdogTicking(), false);
});
