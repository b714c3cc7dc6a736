/**
 * End-to-end tests of the AWS Secrets Manager backend against its fake: listing over pages,
 * batched and concurrent reads, selection by name and ARN, the fallback when
 * BatchGetSecretValue is denied, retries, and the clean failures that leave the vault as it
 * was.
 */

import assert from "node:assert/strict";
import {
  ACCESS_KEY_ID,
  awsEnv,
  awsScenario,
  SECRET_KEY,
  testKeys,
  vaultWithKeys,
} from "./support/aws.ts";
import { scenario } from "./support/scenario.ts";
import { at, readVaultDoc } from "./support/vault.ts";
import { fakesWorld } from "./support/world.ts";
import { type FakeSecret, secretsManagerFake } from "./fakes/aws_secrets_manager.ts";

function manySecrets(count: number): FakeSecret[] {
  const secrets: FakeSecret[] = [];
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(3, "0");
    secrets.push({
      name: `app/svc${n}`,
      string: JSON.stringify({ [`APP.S${n}.PASSWORD`]: `pw-${n}-${crypto.randomUUID()}` }),
    });
  }
  return secrets;
}

function values(secrets: FakeSecret[]): string[] {
  return secrets.flatMap((s) => [s.string ?? "", ...Object.values(tryJson(s.string))]).filter(
    (v) => v.length >= 4,
  );
}

function tryJson(text: string | undefined): Record<string, string> {
  try {
    return JSON.parse(text ?? "");
  } catch {
    return {};
  }
}

const SM = "AWS_SECRETS_MANAGER";

Deno.test("Secrets Manager: every secret, listed from both ends, batched and concurrent", async () => {
  const secrets = [
    ...manySecrets(450),
    { name: "gone/soon", string: "deleted-value-xyz", deleted: true },
  ];
  const keys = testKeys();
  const sm = secretsManagerFake(secrets, keys);
  await using run = await awsScenario(SM, sm.handler, {
    vault: vaultWithKeys("KEEP: me\n"),
    latencyMs: 20,
  });
  const { fake } = run;
  await run.loads({ SECRETS_AWS_CONCURRENCY: "4" }, [
    ...values(secrets),
    SECRET_KEY,
    "deleted-value-xyz",
  ]);
  const doc = await readVaultDoc(run.vault);
  for (const secret of secrets.slice(0, 450)) {
    for (const [key, value] of Object.entries(JSON.parse(secret.string!))) {
      assert.equal(at(doc, key), value, key);
    }
  }
  assert.equal(at(doc, "KEEP"), "me");
  assert.equal(at(doc, "gone"), undefined, "a secret scheduled for deletion is skipped");
  // Round 1: the first 100 by name. Round 2: 101-200, and 450-351 from the end. Round 3:
  // 201-300 and 350-251, which share 251-300: 5 pages in 3 rounds, not 5 in a row.
  const shown = sm.listings.map((l) => `${l.sortBy} ${l.sortOrder}${l.token ? " next" : ""}`);
  assert.deepEqual(
    [shown.slice(0, 1), shown.slice(1, 3).sort(), shown.slice(3).sort()],
    [["name asc"], ["name asc next", "name desc"], ["name asc next", "name desc next"]],
  );
  assert.equal(sm.calls.get("ListSecrets"), 5);
  // Each round's new names in groups of 20: 100 → 5, 200 → 10, 100 + 50 → 8.
  assert.equal(sm.calls.get("BatchGetSecretValue"), 23);
  assert.equal(sm.calls.get("GetSecretValue"), undefined);
  assert.ok(
    sm.order.indexOf("BatchGetSecretValue") < sm.order.lastIndexOf("ListSecrets"),
    `values are fetched while the listing continues: ${sm.order.join(",")}`,
  );
  assert.ok(fake.peakConcurrency > 1, `peak ${fake.peakConcurrency}`);
  assert.ok(fake.peakConcurrency <= 6, `peak ${fake.peakConcurrency}`); // 4 + two listings
});

Deno.test("Secrets Manager: selection by name and by ARN, plain, JSON, expanded and binary values", async () => {
  const bytes = new Uint8Array([0, 159, 146, 150, 255, 10, 42]);
  const secrets: FakeSecret[] = [
    { name: "dataops/snowflake", string: '{"USERNAME":"transform_user","PASSWORD":"s3cr3t-pw!"}' },
    { name: "dataops/api/token", string: "plain-token-value-123" },
    { name: "dataops/cert", binary: bytes },
    { name: "other", string: '{"OTHER.KEY":"not-selected-value"}' },
  ];
  const keys = testKeys();
  const sm = secretsManagerFake(secrets, keys);
  await using run = await awsScenario(SM, sm.handler);
  const result = await run.loads({
    SECRETS_SELECTION: `dataops/snowflake, ${sm.arn("dataops/api/token")},dataops/cert`,
    SECRETS_EXPAND_JSON: "true",
  }, ["transform_user", "s3cr3t-pw!", "plain-token-value-123", SECRET_KEY]);
  const doc = await readVaultDoc(run.vault);
  assert.equal(at(doc, "dataops.snowflake.USERNAME"), "transform_user");
  assert.equal(at(doc, "dataops.snowflake.PASSWORD"), "s3cr3t-pw!");
  assert.equal(at(doc, "dataops.api.token"), "plain-token-value-123");
  assert.equal(at(doc, "dataops.cert"), btoa(String.fromCharCode(...bytes)));
  assert.equal(at(doc, "other"), undefined);
  assert.equal(at(doc, "OTHER"), undefined);
  assert.match(result.stderr, /warning: secret "dataops\/cert" is binary/);
  assert.equal(sm.calls.get("ListSecrets"), undefined, "a selection is fetched exactly");
  assert.equal(sm.calls.get("BatchGetSecretValue"), 1);
});

Deno.test("Secrets Manager: a flat JSON secret gives one vault key per JSON key; the filter keeps matching names", async () => {
  const secrets: FakeSecret[] = [
    {
      name: "snowflake-transform",
      string:
        '{"SNOWFLAKE.TRANSFORM.USERNAME":"u-transform","SNOWFLAKE.TRANSFORM.PASSWORD":"p-transform-1"}',
    },
    { name: "snowflake-ingest", string: '{"SNOWFLAKE.INGEST.PASSWORD":"p-ingest-2"}' },
    { name: "tableau", string: '{"TABLEAU.PASSWORD":"p-tableau-3"}' },
  ];
  const sm = secretsManagerFake(secrets, testKeys());
  await using run = await awsScenario(SM, sm.handler);
  await run.loads({ SECRETS_SELECTION_FILTER: "snowflake" }, [
    "u-transform",
    "p-transform-1",
    "p-ingest-2",
    "p-tableau-3",
  ]);
  const doc = await readVaultDoc(run.vault);
  assert.equal(at(doc, "SNOWFLAKE.TRANSFORM.USERNAME"), "u-transform");
  assert.equal(at(doc, "SNOWFLAKE.TRANSFORM.PASSWORD"), "p-transform-1");
  assert.equal(at(doc, "SNOWFLAKE.INGEST.PASSWORD"), "p-ingest-2");
  assert.equal(at(doc, "TABLEAU"), undefined);
});

Deno.test("Secrets Manager: a selected secret that does not exist fails naming it, vault unchanged", async () => {
  const sm = secretsManagerFake([{ name: "exists", string: "value-exists-1" }], testKeys());
  await using run = await awsScenario(SM, sm.handler);
  await run.fails({ SECRETS_SELECTION: "exists,missing/one" }, {
    code: 2,
    line: /secret "missing\/one" in SECRETS_SELECTION does not exist/,
    secrets: ["value-exists-1", SECRET_KEY],
  });
});

Deno.test("Secrets Manager: BatchGetSecretValue denied falls back to concurrent GetSecretValue", async () => {
  const secrets = manySecrets(45);
  const sm = secretsManagerFake(secrets, testKeys(), { deny: ["BatchGetSecretValue"] });
  await using run = await awsScenario(SM, sm.handler, { latencyMs: 5 });
  await run.loads({}, [...values(secrets), SECRET_KEY]);
  const doc = await readVaultDoc(run.vault);
  for (const secret of secrets) {
    for (const [key, value] of Object.entries(JSON.parse(secret.string!))) {
      assert.equal(at(doc, key), value);
    }
  }
  assert.equal(sm.calls.get("GetSecretValue"), 45);
  assert.ok((sm.calls.get("BatchGetSecretValue") ?? 0) >= 1);
  assert.ok(run.fake.peakConcurrency > 1);
});

Deno.test("Secrets Manager: throttling (HTTP 400) and 5xx are retried and the load completes", async () => {
  const secrets = manySecrets(30);
  const sm = secretsManagerFake(secrets, testKeys());
  sm.faults.push(
    { status: 400, type: "ThrottlingException" },
    { status: 503 },
    { status: 400, type: "TooManyRequestsException" },
    { status: 500, type: "InternalServiceError" },
  );
  await using run = await awsScenario(SM, sm.handler);
  const result = await run.loads({}, [...values(secrets), SECRET_KEY], ["--verbose"]);
  assert.equal(sm.faults.length, 0, "every fault was served");
  const doc = await readVaultDoc(run.vault);
  assert.equal(Object.keys(at(doc, "APP") as object).length, 30);
  assert.match(result.stderr, /retry/);
});

Deno.test("Secrets Manager: access denied fails cleanly naming the operation, vault unchanged", async () => {
  const sm = secretsManagerFake([{ name: "a", string: "value-a-1234" }], testKeys(), {
    deny: ["ListSecrets"],
  });
  await using run = await awsScenario(SM, sm.handler, { vault: vaultWithKeys("EXISTING: 1\n") });
  await run.fails({}, {
    code: 3,
    line: /ListSecrets was refused: AccessDeniedException/,
    secrets: ["value-a-1234", SECRET_KEY],
  });
  assert.equal(sm.calls.get("ListSecrets"), 1, "denied is not retried");
});

Deno.test("Secrets Manager: GetSecretValue denied on one selected secret names it", async () => {
  const sm = secretsManagerFake(
    [{ name: "ok", string: "value-ok-1234" }, { name: "locked", string: "value-locked-5678" }],
    testKeys(),
    { denySecrets: ["locked"] },
  );
  await using run = await awsScenario(SM, sm.handler);
  await run.fails({ SECRETS_SELECTION: "ok,locked" }, {
    code: 3,
    line: /GetSecretValue for "locked" was refused/,
    secrets: ["value-ok-1234", "value-locked-5678", SECRET_KEY],
  });
});

Deno.test("Secrets Manager: a wrong secret key or an unknown key id is an authentication error", async () => {
  const sm = secretsManagerFake([{ name: "a", string: "value-a-1234" }], testKeys());
  await using running = fakesWorld([sm.handler]);
  const env = awsEnv(SM, running.fakes[0]);
  for (
    const [keyId, secret, line] of [
      [ACCESS_KEY_ID, "wrong/secret/key/0000000000000000000000", /InvalidSignatureException/],
      ["AKIAUNKNOWN000000000", SECRET_KEY, /UnrecognizedClientException/],
    ] as const
  ) {
    await using run = await scenario(env, { vault: vaultWithKeys("", keyId, secret) });
    await run.fails({}, { code: 3, line, secrets: ["value-a-1234", secret] });
  }
});

for (const batch of [true, false]) {
  Deno.test(
    `Secrets Manager: a selected secret scheduled for deletion fails the run naming it, unless SECRETS_ALLOW_MISSING (${
      batch ? "BatchGetSecretValue" : "GetSecretValue"
    })`,
    async () => {
      const sm = secretsManagerFake(
        [{ name: "live", string: "live-value-1234" }, {
          name: "dying",
          string: "dying-value-5678",
          deleted: true,
        }],
        testKeys(),
        batch ? {} : { deny: ["BatchGetSecretValue"] },
      );
      const leakable = ["live-value-1234", "dying-value-5678", SECRET_KEY];
      await using run = await awsScenario(SM, sm.handler);
      const selection = { SECRETS_SELECTION: "live,dying" };
      await run.fails(selection, {
        code: 2,
        line:
          /secret "dying" in SECRETS_SELECTION is scheduled for deletion .*SECRETS_ALLOW_MISSING=true/,
        secrets: leakable,
      });

      const result = await run.loads({ ...selection, SECRETS_ALLOW_MISSING: "true" }, leakable);
      assert.match(
        result.stderr,
        /warning: secret "dying" is scheduled for deletion; skipped \(SECRETS_ALLOW_MISSING\)/,
      );
      const doc = await readVaultDoc(run.vault);
      assert.equal(at(doc, "live"), "live-value-1234");
      assert.equal(at(doc, "dying"), undefined);
      assert.equal(sm.calls.get("GetSecretValue"), batch ? undefined : 4);
    },
  );
}
