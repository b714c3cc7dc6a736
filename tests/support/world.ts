/**
 * A world: a backend's fakes, started together and stopped together with
 * `await using world = start...()` (or an explicit `close()`).
 *
 * @module
 */

import { type Fake, type FakeHandler, type FakeOptions, startFake } from "../fakes/server.ts";

/** Running fakes that stop when disposed. */
export interface World extends AsyncDisposable {
  /** Stop the fakes (idempotent: a second call does nothing). */
  close(): Promise<void>;
}

/** Give `parts` a `close` (running `stop` once) and `[Symbol.asyncDispose]` calling it. */
export function world<T extends object>(parts: T, stop: () => Promise<void>): T & World {
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= stop());
  return Object.assign(parts, { close, [Symbol.asyncDispose]: close });
}

/** Fake servers for `handlers` (in order), stopped together. */
export function fakesWorld(
  handlers: FakeHandler[],
  options: FakeOptions = {},
): { fakes: Fake[] } & World {
  const fakes = handlers.map((handler) => startFake(handler, options));
  return world({ fakes }, async () => {
    await Promise.all(fakes.map((fake) => fake.close()));
  });
}
