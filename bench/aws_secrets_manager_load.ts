/**
 * Times a whole `load` (`deno run -P main.ts`, production permissions) against the
 * Secrets Manager fake with injected latency, with `BatchGetSecretValue` and with the
 * `GetSecretValue` fallback.
 *
 * Run: `.tools/bin/deno run -A bench/aws_secrets_manager_load.ts [COUNT] [LATENCY_MS]`
 *
 * @module
 */

import { runTool, tempVault } from "../tests/helpers.ts";
import { testKeys, vaultWithKeys } from "../tests/aws_helpers.ts";
import { secretsManagerFake } from "../tests/fakes/aws_secrets_manager.ts";
import { startFake } from "../tests/fakes/server.ts";

const count = Number(Deno.args[0] ?? 1000);
const latencyMs = Number(Deno.args[1] ?? 10);

for (const deny of [false, true]) {
  const secrets = Array.from({ length: count }, (_, i) => ({
    name: `bench/key${i}`,
    string: `value-${i}-${crypto.randomUUID()}`,
  }));
  const sm = secretsManagerFake(secrets, testKeys(), deny ? { deny: ["BatchGetSecretValue"] } : {});
  const fake = startFake(sm.handler, { latencyMs });
  const { dir, vault } = await tempVault(vaultWithKeys());
  const start = performance.now();
  const result = await runTool([], {
    SECRETS_VAULT_PATH: vault,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
  });
  const ms = performance.now() - start;
  console.log(
    `${count} secrets, ${latencyMs} ms latency, ${
      deny ? "GetSecretValue fallback" : "BatchGetSecretValue"
    }: exit ${result.code}, ${
      ms.toFixed(0)
    } ms wall (with Deno start-up), ${fake.requests} requests, peak ${fake.peakConcurrency} in flight`,
  );
  await fake.close();
  await Deno.remove(dir, { recursive: true });
}
