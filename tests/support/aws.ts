/**
 * Shared setup of the AWS tests: a key store with the static test keys, a vault holding
 * them, a helper to start fakes around a body, and scenarios of runs against a fake.
 *
 * @module
 */

import { FakeKeyStore } from "../fakes/aws_sigv4.ts";
import type { Fake, FakeHandler } from "../fakes/server.ts";
import { type EnvFor, type Scenario, scenario } from "./scenario.ts";
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

/** The variable that points the tool at each AWS backend's service. */
const ENDPOINTS = {
  AWS_SECRETS_MANAGER: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
  AWS_PARAMETER_STORE: "AWS_ENDPOINT_URL_SSM",
} as const;

/** An AWS backend, as `SECRETS_MANAGER` names it. */
export type AwsBackend = keyof typeof ENDPOINTS;

/** The environment of a `backend` run against `fake`. */
export function awsEnv(backend: AwsBackend, fake: Fake): EnvFor {
  return (vault) => ({
    SECRETS_MANAGER: backend,
    SECRETS_VAULT_PATH: vault,
    [ENDPOINTS[backend]]: fake.url,
  });
}

/** A {@linkcode Scenario} that also owns the fake its runs talk to. */
export interface AwsScenario extends Scenario {
  /** The running fake (stopped with the scenario). */
  fake: Fake;
}

/** What {@linkcode awsScenario} accepts. */
export interface AwsScenarioOptions {
  /** The starting vault's text (default: the static keys, {@linkcode vaultWithKeys}). */
  vault?: string;
  /** Latency the fake adds to every answer, in milliseconds (default 0). */
  latencyMs?: number;
}

/** Start a fake serving `handler`, and a scenario of `backend` runs against it. */
export async function awsScenario(
  backend: AwsBackend,
  handler: FakeHandler,
  { vault = vaultWithKeys(), latencyMs = 0 }: AwsScenarioOptions = {},
): Promise<AwsScenario> {
  const running = fakesWorld([handler], { latencyMs });
  const [fake] = running.fakes;
  try {
    return { ...(await scenario(awsEnv(backend, fake), { vault, owns: [running] })), fake };
  } catch (error) {
    await running.close();
    throw error;
  }
}
