/**
 * End-to-end tests of the AWS SSM Parameter Store backend against its fake: path selection
 * over several DescribeParameters pages, every parameter type, the GetParametersByPath
 * fallback, and a clean failure when reading is denied.
 */

import assert from "node:assert/strict";
import { at, readVaultDoc } from "./support/vault.ts";
import { awsScenario, SECRET_KEY, testKeys, vaultWithKeys } from "./support/aws.ts";
import { type FakeParameter, ssmFake } from "./fakes/aws_ssm.ts";

const SSM = "AWS_PARAMETER_STORE";
const DATAOPS = { SECRETS_SELECTION: "/dataops", SECRETS_STRIP_PREFIX: "/dataops/" };

function dataopsParameters(count: number): FakeParameter[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `/dataops/SNOWFLAKE/USER${String(i).padStart(2, "0")}/PASSWORD`,
    type: "SecureString" as const,
    value: `ssm-secure-${i}-${crypto.randomUUID()}`,
  }));
}

/** Assert that every parameter of `secure` is in `doc`, under its name less `/dataops/`. */
function assertStripped(doc: Record<string, unknown>, secure: FakeParameter[]): void {
  for (const p of secure) {
    assert.equal(at(doc, p.name.slice("/dataops/".length).replaceAll("/", ".")), p.value);
  }
}

Deno.test("SSM: path selection with strip prefix, SecureString decrypted over several pages, StringList kept", async () => {
  const secure = dataopsParameters(75);
  const parameters: FakeParameter[] = [
    ...secure,
    { name: "/dataops/SNOWFLAKE/ACCOUNT", type: "String", value: "acme-account-01" },
    { name: "/dataops/SNOWFLAKE/ROLES", type: "StringList", value: "reader,writer,admin" },
    { name: "/other/IGNORED", type: "SecureString", value: "other-value-999" },
    { name: "flat.name", type: "String", value: "flat-value-777" },
  ];
  const ssm = ssmFake(parameters, testKeys());
  await using run = await awsScenario(SSM, ssm.handler, { latencyMs: 5 });
  await run.loads({ ...DATAOPS, SECRETS_SELECTION: "/dataops/" }, [
    ...secure.map((p) => p.value),
    "acme-account-01",
    SECRET_KEY,
  ]);
  const doc = await readVaultDoc(run.vault);
  assertStripped(doc, secure);
  assert.equal(at(doc, "SNOWFLAKE.ACCOUNT"), "acme-account-01");
  assert.equal(at(doc, "SNOWFLAKE.ROLES"), "reader,writer,admin");
  assert.equal(at(doc, "other"), undefined);
  assert.equal(at(doc, "flat"), undefined);
  assert.equal(ssm.calls.get("DescribeParameters"), 2); // 77 names, 50 a page
  assert.equal(ssm.calls.get("GetParameters"), 8); // 10 names a call
  assert.ok(run.fake.peakConcurrency > 1);
});

Deno.test("SSM: no selection reads every parameter, hierarchical and flat names (region from AWS_REGION)", async () => {
  const parameters: FakeParameter[] = [
    { name: "/A/B/C", type: "String", value: "value-abc-1" },
    { name: "/A/D", type: "SecureString", value: "value-ad-2" },
    { name: "FLAT", type: "SecureString", value: "value-flat-3" },
    { name: "x.y", type: "String", value: "value-xy-4" },
  ];
  const ssm = ssmFake(parameters, testKeys(), { region: "ap-southeast-2" });
  await using run = await awsScenario(SSM, ssm.handler);
  await run.loads({ AWS_REGION: "ap-southeast-2" }, parameters.map((p) => p.value));
  const doc = await readVaultDoc(run.vault);
  assert.equal(at(doc, "A.B.C"), "value-abc-1");
  assert.equal(at(doc, "A.D"), "value-ad-2");
  assert.equal(at(doc, "FLAT"), "value-flat-3");
  assert.equal(at(doc, "x.y"), "value-xy-4");
});

Deno.test("SSM: DescribeParameters denied falls back to paging GetParametersByPath", async () => {
  const secure = dataopsParameters(25);
  const ssm = ssmFake(secure, testKeys(), { deny: ["DescribeParameters"] });
  ssm.faults.push(
    { status: 400, type: "ThrottlingException" },
    { status: 500 },
    { status: 400, type: "RequestLimitExceeded" },
  );
  await using run = await awsScenario(SSM, ssm.handler);
  await run.loads(DATAOPS, [...secure.map((p) => p.value), SECRET_KEY]);
  assertStripped(await readVaultDoc(run.vault), secure);
  assert.equal(ssm.calls.get("GetParametersByPath"), 3); // 25 parameters, 10 a page
  assert.equal(ssm.faults.length, 0);
});

Deno.test("SSM: GetParameters denied (no kms:Decrypt or ssm:GetParameters) fails cleanly, vault unchanged", async () => {
  const secure = dataopsParameters(3);
  const ssm = ssmFake(secure, testKeys(), { deny: ["GetParameters"] });
  await using run = await awsScenario(SSM, ssm.handler, { vault: vaultWithKeys("KEEP: 1\n") });
  await run.fails({ SECRETS_SELECTION: "/dataops" }, {
    code: 3,
    line: /AWS SSM GetParameters for 3 parameters .* was refused: AccessDeniedException/,
    secrets: [...secure.map((p) => p.value), SECRET_KEY],
  });
});
