import assert from "node:assert/strict";
import { assertNoLeak } from "./support/assertions.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { at, readVaultDoc } from "./support/vault.ts";
import { SECRET_KEY, testKeys, vaultWithKeys } from "./support/aws.ts";
import { ssmFake } from "./fakes/aws_ssm.ts";
import {
  awsOperation,
  awsThrottled,
  DOCUMENTED_LIMITS,
  keyVaultThrottled,
  ssmBucket,
  withRateLimit,
} from "./fakes/limits.ts";
import { startFake } from "./fakes/server.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const info = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } as Deno.NetAddr };

Deno.test("fake rate limits: AWS and Key Vault throttling answers, per bucket, window slides", async () => {
  const ok = () => new Response("{}", { status: 200 });
  const aws = withRateLimit(ok, {
    bucket: awsOperation,
    rules: { GetParameters: { limit: 2, windowMs: 150 } },
    throttled: awsThrottled,
  });
  const call = (target: string) =>
    aws.handler(
      new Request("http://x/", { method: "POST", headers: { "x-amz-target": target } }),
      info,
    );
  assert.equal((await call("AmazonSSM.GetParameters")).status, 200);
  assert.equal((await call("AmazonSSM.GetParameters")).status, 200);
  const throttled = await call("AmazonSSM.GetParameters");
  assert.equal(throttled.status, 400);
  assert.deepEqual(await throttled.json(), {
    __type: "ThrottlingException",
    message: "Rate exceeded",
  });
  // Another operation has its own bucket (here: none, so never limited).
  assert.equal((await call("AmazonSSM.DescribeParameters")).status, 200);
  await sleep(170);
  assert.equal((await call("AmazonSSM.GetParameters")).status, 200);
  assert.deepEqual(aws.counters.throttled, { GetParameters: 1 });
  assert.deepEqual(aws.counters.peakInWindow, { GetParameters: 2 });

  const kv = withRateLimit(ok, {
    bucket: () => "vault",
    rules: { vault: { limit: 1, windowMs: 2000 } },
    throttled: keyVaultThrottled,
  });
  assert.equal((await kv.handler(new Request("http://x/secrets"), info)).status, 200);
  const refused = await kv.handler(new Request("http://x/secrets"), info);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "2");
  assert.equal((await refused.json()).error.code, "Throttled");
  assert.equal(
    ssmBucket(new Request("http://x/", { headers: { "x-amz-target": "AmazonSSM.GetParameter" } })),
    "shared",
  );
});

function parameters(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    name: `/rl/G${i % 5}/KEY${i}`,
    type: "SecureString" as const,
    value: `rate-limited-value-${i}-${crypto.randomUUID()}`,
  }));
}

Deno.test("SSM: 60 GetParameters calls stay within the documented 40/s, with no throttling", async () => {
  const params = parameters(600);
  const fake = ssmFake(params, testKeys());
  const limited = withRateLimit(fake.handler, {
    bucket: ssmBucket,
    rules: DOCUMENTED_LIMITS.ssm,
    throttled: awsThrottled,
  });
  const server = startFake(limited.handler, { latencyMs: 1 });
  await using tmp = await tempVault(vaultWithKeys());
  const { dir, vault } = tmp;
  try {
    const start = performance.now();
    const result = await runTool([], {
      SECRETS_MANAGER: "AWS_PARAMETER_STORE",
      AWS_ENDPOINT_URL_SSM: server.url,
      SECRETS_VAULT_PATH: vault,
    });
    const elapsed = performance.now() - start;
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [...params.map((p) => p.value), SECRET_KEY]);
    assert.equal(fake.calls.get("GetParameters"), 60);
    assert.deepEqual(limited.counters.throttled, {}, "the tool paced itself under the quota");
    assert.equal(limited.counters.peakInWindow.shared, 40);
    assert.ok(elapsed >= 1000, `60 calls at 40/s need over a second, took ${elapsed} ms`);
    const doc = await readVaultDoc(vault);
    assert.equal(at(doc, "rl.G3.KEY598"), params[598].value);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SSM: a quota lower than documented (shared with other clients) is met by backing off", async () => {
  const params = parameters(40);
  const fake = ssmFake(params, testKeys());
  const limited = withRateLimit(fake.handler, {
    bucket: ssmBucket,
    rules: { shared: { limit: 1, windowMs: 200 } },
    throttled: awsThrottled,
  });
  const server = startFake(limited.handler, { latencyMs: 1 });
  await using tmp = await tempVault(vaultWithKeys());
  const { dir, vault } = tmp;
  try {
    const result = await runTool(["--verbose"], {
      SECRETS_MANAGER: "AWS_PARAMETER_STORE",
      AWS_ENDPOINT_URL_SSM: server.url,
      SECRETS_VAULT_PATH: vault,
    });
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [...params.map((p) => p.value), SECRET_KEY]);
    assert.ok((limited.counters.throttled.shared ?? 0) > 0, "the fake throttled");
    assert.match(result.stderr, /ThrottlingException/);
    assert.equal(limited.counters.admitted.shared, 4, "every read got through once");
    const doc = await readVaultDoc(vault);
    assert.equal(at(doc, "rl.G4.KEY39"), params[39].value);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
