/**
 * `SECRETS_AWS_SSM_THROUGHPUT`: the Parameter Store quotas the value reads are paced to,
 * against the SSM fake enforcing the same quotas as AWS (`ThrottlingException`).
 */
import assert from "node:assert/strict";
import { assertNoLeak } from "./support/assertions.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { at, readVaultDoc } from "./support/vault.ts";
import { SECRET_KEY, testKeys, vaultWithKeys } from "./support/aws.ts";
import { ssmFake } from "./fakes/aws_ssm.ts";
import { ssmLimits, withRateLimit } from "./fakes/limits.ts";
import { startFake } from "./fakes/server.ts";
import { createAdaptiveLimiter } from "../lib/kit/limiters.ts";
import { quotaGates, SSM_QUOTAS } from "../providers/aws/quotas.ts";

function parameters(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    name: `/tp/G${i % 5}/KEY${i}`,
    type: "SecureString" as const,
    value: `throughput-value-${i}-${crypto.randomUUID()}`,
  }));
}

Deno.test("SSM higher throughput: the quotas are 3,000/s for GetParameters, 100/s by path, and throttling halves them", () => {
  const limiter = createAdaptiveLimiter(8);
  const { quotas, quotaOf } = SSM_QUOTAS.higher;
  const { gate, onThrottle } = quotaGates(quotas, quotaOf, limiter);
  assert.equal(gate("GetParameters")?.limit, 3000);
  assert.equal(gate("GetParameter"), gate("GetParameters"), "one quota for both by-name reads");
  assert.equal(gate("GetParametersByPath")?.limit, 100);
  assert.equal(gate("DescribeParameters"), undefined);
  onThrottle("GetParameters");
  assert.equal(gate("GetParameters")?.limit, 1500);
  assert.equal(gate("GetParametersByPath")?.limit, 100, "another quota keeps its rate");
  assert.equal(limiter.limit, 4, "and the calls in flight are halved too");
  const standard = quotaGates(SSM_QUOTAS.standard.quotas, SSM_QUOTAS.standard.quotaOf, limiter);
  assert.equal(standard.gate("GetParameters")?.limit, 40);
  assert.equal(standard.gate("GetParametersByPath"), standard.gate("GetParameters"));
});

Deno.test("SSM higher throughput: 60 GetParameters calls go faster than 40/s, unthrottled", async () => {
  const params = parameters(600);
  const fake = ssmFake(params, testKeys());
  const limited = withRateLimit(fake.handler, ssmLimits("higher"));
  const server = startFake(limited.handler, { latencyMs: 1 });
  await using tmp = await tempVault(vaultWithKeys());
  try {
    const result = await runTool([], {
      SECRETS_MANAGER: "AWS_PARAMETER_STORE",
      AWS_ENDPOINT_URL_SSM: server.url,
      SECRETS_VAULT_PATH: tmp.vault,
      SECRETS_AWS_SSM_THROUGHPUT: "higher",
    });
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [...params.map((p) => p.value), SECRET_KEY]);
    assert.equal(fake.calls.get("GetParameters"), 60);
    assert.deepEqual(limited.counters.throttled, {});
    // At `standard` the tool never lets more than 40 reads into one second.
    const peak = limited.counters.peakInWindow.values;
    assert.ok(peak > 40, `more than 40 reads in one second at higher throughput, saw ${peak}`);
    const doc = await readVaultDoc(tmp.vault);
    assert.equal(at(doc, "tp.G3.KEY598"), params[598].value);
  } finally {
    await server.close();
  }
});

Deno.test("SSM higher throughput: a lower quota than configured (shared with other clients) is met by backing off", async () => {
  const params = parameters(40);
  const fake = ssmFake(params, testKeys());
  const limits = ssmLimits("higher");
  const limited = withRateLimit(fake.handler, {
    ...limits,
    rules: { ...limits.rules, values: { limit: 1, windowMs: 200 } },
  });
  const server = startFake(limited.handler, { latencyMs: 1 });
  await using tmp = await tempVault(vaultWithKeys());
  try {
    const result = await runTool(["--verbose"], {
      SECRETS_MANAGER: "AWS_PARAMETER_STORE",
      AWS_ENDPOINT_URL_SSM: server.url,
      SECRETS_VAULT_PATH: tmp.vault,
      SECRETS_AWS_SSM_THROUGHPUT: "higher",
    });
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [...params.map((p) => p.value), SECRET_KEY]);
    assert.ok((limited.counters.throttled.values ?? 0) > 0, "the fake throttled");
    assert.match(result.stderr, /ThrottlingException/);
    assert.equal(limited.counters.admitted.values, 4, "every read got through once");
    const doc = await readVaultDoc(tmp.vault);
    assert.equal(at(doc, "tp.G4.KEY39"), params[39].value);
  } finally {
    await server.close();
  }
});

Deno.test("SSM standard throughput against the same fake: never more than 40 reads a second", async () => {
  const params = parameters(500);
  const fake = ssmFake(params, testKeys());
  const limited = withRateLimit(fake.handler, ssmLimits("higher"));
  const server = startFake(limited.handler, { latencyMs: 1 });
  await using tmp = await tempVault(vaultWithKeys());
  try {
    const result = await runTool([], {
      SECRETS_MANAGER: "AWS_PARAMETER_STORE",
      AWS_ENDPOINT_URL_SSM: server.url,
      SECRETS_VAULT_PATH: tmp.vault,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(fake.calls.get("GetParameters"), 50);
    assert.equal(limited.counters.peakInWindow.values, 40);
  } finally {
    await server.close();
  }
});
