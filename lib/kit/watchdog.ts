/**
 * Timeouts for many short-lived requests at the cost of one timer: each watched call is
 * an entry in a set, and one shared tick fires the ones past their deadline. A load of
 * 10,000 requests then arms no timer per request (each timer is a round into the
 * runtime), and nothing is left behind when a call settles.
 *
 * @module
 */

import { schedule } from "./timers.ts";

/** How often the shared tick checks deadlines, in milliseconds: a timeout fires within this. */
export const WATCHDOG_TICK_MS = 50;

interface Watch {
  deadline: number;
  fire: () => void;
}

const watched = new Set<Watch>();
/** Cancels the pending tick; set while something is watched. */
let stopTick: (() => void) | undefined;

function arm(): void {
  stopTick = schedule(WATCHDOG_TICK_MS, () => {
    stopTick = undefined;
    const now = Date.now();
    for (const watch of watched) {
      if (watch.deadline <= now) {
        watched.delete(watch);
        watch.fire();
      }
    }
    if (watched.size > 0 && stopTick === undefined) arm();
  });
}

function stopWhenIdle(): void {
  if (watched.size === 0 && stopTick !== undefined) {
    stopTick();
    stopTick = undefined;
  }
}

/**
 * Call `fire` once, `ms` milliseconds from now (at most {@linkcode WATCHDOG_TICK_MS}
 * later), unless the returned function is called first. The tick stops once nothing is
 * watched.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const cancel = watchdog(30_000, () => controller.abort());
 * try {
 *   await fetch("http://127.0.0.1:8200/v1/sys/health", { signal: controller.signal });
 * } finally {
 *   cancel();
 * }
 * ```
 */
export function watchdog(ms: number, fire: () => void): () => void {
  const watch: Watch = { deadline: Date.now() + ms, fire };
  watched.add(watch);
  if (stopTick === undefined) arm();
  return () => {
    if (watched.delete(watch)) stopWhenIdle();
  };
}

/** Whether the shared tick is running: only while something is watched. */
export function watchdogTicking(): boolean {
  return stopTick !== undefined;
}
