/**
 * Shared setup of the AWS tests: a key store with the static test keys, a vault holding
 * them, and helpers to start fakes and read the resulting vault.
 *
 * @module
 */

import { parse } from "yaml";
import { FakeKeyStore } from "./fakes/aws_sigv4.ts";
import { type Fake, startFake } from "./fakes/server.ts";

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

/** Read a vault file as a plain object. */
export async function readVaultDoc(path: string): Promise<Record<string, unknown>> {
  return parse(await Deno.readTextFile(path)) as Record<string, unknown>;
}

/** Get a dotted path from a parsed vault. */
export function at(doc: unknown, path: string): unknown {
  let node = doc;
  for (const part of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Start fakes, run `body`, and close them whatever happens. */
export async function withFakes<T>(
  handlers: ((request: Request) => Response | Promise<Response>)[],
  body: (fakes: Fake[]) => Promise<T>,
  latencyMs = 0,
): Promise<T> {
  const fakes = handlers.map((handler) => startFake(handler, { latencyMs }));
  try {
    return await body(fakes);
  } finally {
    await Promise.all(fakes.map((fake) => fake.close()));
  }
}
