/**
 * Shared setup of the AWS tests: a key store with the static test keys, a vault holding
 * them, and a helper to start fakes around a body.
 *
 * @module
 */

import { FakeKeyStore } from "../fakes/aws_sigv4.ts";
import type { Fake, FakeHandler } from "../fakes/server.ts";
import { fakesWorld } from "./world.ts";

/** The static test key id (AWS's documented example). */
export const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
/** The static test secret key (AWS's documented example). */
export const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/** A key store that knows the static test keys. */
export function testKeys(): FakeKeyStore {
  return new FakeKeyStore().add(ACCESS_KEY_ID, SECRET_KEY);
}

/** Vault text holding static AWS keys at the default locations, plus `extra` lines. */
export function vaultWithKeys(
  extra = "",
  accessKeyId = ACCESS_KEY_ID,
  secretKey = SECRET_KEY,
): string {
  return `AWS:\n  DEFAULT:\n    S3_KEY: ${accessKeyId}\n    S3_SECRET: ${secretKey}\n${extra}`;
}

/** Start fakes, run `body`, and close them whatever happens. */
export async function withFakes<T>(
  handlers: FakeHandler[],
  body: (fakes: Fake[]) => Promise<T>,
  latencyMs = 0,
): Promise<T> {
  await using world = fakesWorld(handlers, { latencyMs });
  return await body(world.fakes);
}
