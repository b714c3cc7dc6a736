import assert from "node:assert/strict";
import {
  createAdaptiveLimiter,
  createRateGate,
  forEachConcurrent,
  readAhead,
} from "../lib/kit/limiters.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("adaptive limiter: never above its limit, halves on throttling, recovers after", async () => {
  const limiter = createAdaptiveLimiter(8);
  let running = 0;
  let peak = 0;
  const task = async () => {
    running++;
    peak = Math.max(peak, running);
    await sleep(2);
    running--;
  };
  await Promise.all(Array.from({ length: 40 }, () => limiter.run(task)));
  assert.equal(peak, 8);
  assert.equal(limiter.limit, 8);

  // A burst of throttles in one round counts once.
  await limiter.run(async () => {
    await sleep(2);
    limiter.throttled();
    limiter.throttled();
    limiter.throttled();
  });
  assert.equal(limiter.limit, 4);
  peak = 0;
  await Promise.all(Array.from({ length: 4 }, () => limiter.run(task)));
  assert.ok(peak <= 4, `peak ${peak} after halving`);
  // Additive increase: back to the maximum after enough successful calls, never above.
  for (let i = 0; i < 10 && limiter.limit < 8; i++) {
    await Promise.all(Array.from({ length: 16 }, () => limiter.run(task)));
  }
  assert.equal(limiter.limit, 8);
  assert.equal(limiter.active, 0);
});

Deno.test("adaptive limiter: a failing task frees its slot", async () => {
  const limiter = createAdaptiveLimiter(1);
  await assert.rejects(limiter.run(() => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await limiter.run(() => Promise.resolve(7)), 7);
  assert.equal(limiter.active, 0);
});

Deno.test("rate gate: no window ever holds more than the limit, counted from send to answer + window", async () => {
  const windowMs = 150;
  const gate = createRateGate({ limit: 5, windowMs });
  const spans: { sent: number; answered: number }[] = [];
  const start = performance.now();
  await Promise.all(Array.from({ length: 15 }, () =>
    gate.run(async () => {
      const sent = performance.now();
      await sleep(5);
      spans.push({ sent, answered: performance.now() });
    })));
  const elapsed = performance.now() - start;
  // A server sees each request somewhere between send and answer; the worst case is
  // counting each at its answer. No window of `windowMs` may then hold more than 5.
  for (const a of spans) {
    const inWindow = spans.filter((b) => b.sent >= a.sent && b.sent < a.answered + windowMs);
    assert.ok(inWindow.length <= 5, `${inWindow.length} requests within one window`);
  }
  // 15 requests at 5 a window need two further windows, and not much more.
  assert.ok(elapsed >= 2 * windowMs, `finished in ${elapsed} ms`);
  assert.ok(elapsed < 6 * windowMs, `too slow: ${elapsed} ms`);
});

Deno.test("rate gate: throttling halves the limit, answers restore it", async () => {
  const gate = createRateGate({ limit: 40, windowMs: 1000 });
  await gate.run(async () => {
    await sleep(1);
    gate.throttled();
    gate.throttled();
  });
  assert.equal(gate.limit, 21); // halved once (20), plus one for the answer
  for (let i = 0; i < 19; i++) await gate.run(() => Promise.resolve());
  assert.equal(gate.limit, 40);
});

/** A source of `n` items, each after `delayMs`, that records how far it was pulled. */
function slowSource(n: number, delayMs: number, failAt?: number) {
  const state = { pulled: 0, closed: false };
  async function* items(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < n; i++) {
        await sleep(delayMs);
        if (i === failAt) throw new Error(`list page ${i} failed`);
        state.pulled = i + 1;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, items: items() };
}

Deno.test("readAhead: the source keeps going while the consumer is busy, in order", async () => {
  const { state, items } = slowSource(40, 1);
  const seen: number[] = [];
  const pulledWhenFirstDone: number[] = [];
  for await (const item of readAhead(items, 16)) {
    if (item === 0) {
      await sleep(60); // a busy consumer: the source must not wait for it
      pulledWhenFirstDone.push(state.pulled);
    }
    seen.push(item);
  }
  assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => i));
  // 16 in the buffer plus the one handed over: pulled ahead, but never beyond the buffer.
  assert.ok(pulledWhenFirstDone[0] >= 10, `pulled ${pulledWhenFirstDone[0]} ahead`);
  assert.ok(pulledWhenFirstDone[0] <= 18, `pulled ${pulledWhenFirstDone[0]} ahead`);
  assert.equal(state.closed, true);
});

Deno.test("readAhead: a source error comes after the items before it", async () => {
  const { items } = slowSource(10, 0, 5);
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const item of readAhead(items, 4)) seen.push(item);
    })(),
    /list page 5 failed/,
  );
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
});

Deno.test("readAhead: a consumer that stops early closes the source", async () => {
  const { state, items } = slowSource(1000, 0);
  await assert.rejects(
    forEachConcurrent(readAhead(items, 8), 4, async (item) => {
      if (item === 3) throw new Error("read failed");
      await sleep(1);
    }),
    /read failed/,
  );
  // The source stops at its next item, after the consumer has moved on.
  for (let i = 0; i < 50 && !state.closed; i++) await sleep(1);
  assert.equal(state.closed, true);
  assert.ok(state.pulled < 1000, `pulled ${state.pulled}`);
});
