/**
 * Timers that cost nothing to start. In Deno 2 the global `setTimeout` and `setInterval`
 * are Node's implementation, and the first call in each thread loads it: about 4 ms on
 * the main thread and 7 ms in a Worker, on a start-up path of about 60 ms. These use
 * `AbortSignal.timeout`, the runtime's own timer.
 *
 * Like any timer they keep the thread's event loop alive until they are due, even once
 * cancelled (cancelling only drops the callback), so use them for the deadlines of work
 * in a Worker that is terminated when done, or in a process that exits explicitly.
 *
 * @module
 */

/**
 * Call `fire` once, `ms` milliseconds from now, unless the returned function is called
 * first.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const cancel = schedule(30_000, () => controller.abort());
 * try {
 *   await fetch("http://127.0.0.1:8200/v1/sys/health", { signal: controller.signal });
 * } finally {
 *   cancel();
 * }
 * ```
 */
export function schedule(ms: number, fire: () => void): () => void {
  let live = true;
  AbortSignal.timeout(Math.max(0, Math.ceil(ms))).addEventListener("abort", () => {
    if (!live) return;
    live = false;
    fire();
  }, { once: true });
  return () => {
    live = false;
  };
}
