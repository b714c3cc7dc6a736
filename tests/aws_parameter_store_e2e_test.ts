import assert from "node:assert/strict";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { readBytes, tempVault } from "./support/temp.ts";
import { runTool } from "./support/run_tool.ts";
import { at, readVaultDoc } from "./support/vault.ts";
import { SECRET_KEY, testKeys, vaultWithKeys, withFakes } from "./support/aws.ts";
import { type FakeParameter, ssmFake } from "./fakes/aws_ssm.ts";

const BASE = { SECRETS_MANAGER: "AWS_PARAMETER_STORE" };

function dataopsParameters(count: number): FakeParameter[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `/dataops/SNOWFLAKE/USER${String(i).padStart(2, "0")}/PASSWORD`,
    type: "SecureString" as const,
    value: `ssm-secure-${i}-${crypto.randomUUID()}`,
  }));
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
  await withFakes([ssm.handler], async ([fake]) => {
    await using tmp = await tempVault(vaultWithKeys());
    const { vault } = tmp;
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SSM: fake.url,
      SECRETS_SELECTION: "/dataops/",
      SECRETS_STRIP_PREFIX: "/dataops/",
    });
    assert.equal(result.code, 0, result.stderr);
    const doc = await readVaultDoc(vault);
    for (const p of secure) {
      assert.equal(at(doc, p.name.slice("/dataops/".length).replaceAll("/", ".")), p.value);
    }
    assert.equal(at(doc, "SNOWFLAKE.ACCOUNT"), "acme-account-01");
    assert.equal(at(doc, "SNOWFLAKE.ROLES"), "reader,writer,admin");
    assert.equal(at(doc, "other"), undefined);
    assert.equal(at(doc, "flat"), undefined);
    assert.equal(ssm.calls.get("DescribeParameters"), 2); // 77 names, 50 a page
    assert.equal(ssm.calls.get("GetParameters"), 8); // 10 names a call
    assert.ok(fake.peakConcurrency > 1);
    assertNoLeak(result, [...secure.map((p) => p.value), "acme-account-01", SECRET_KEY]);
  }, 5);
});

Deno.test("SSM: no selection reads every parameter, hierarchical and flat names (region from AWS_REGION)", async () => {
  const parameters: FakeParameter[] = [
    { name: "/A/B/C", type: "String", value: "value-abc-1" },
    { name: "/A/D", type: "SecureString", value: "value-ad-2" },
    { name: "FLAT", type: "SecureString", value: "value-flat-3" },
    { name: "x.y", type: "String", value: "value-xy-4" },
  ];
  const ssm = ssmFake(parameters, testKeys(), { region: "ap-southeast-2" });
  await withFakes([ssm.handler], async ([fake]) => {
    await using tmp = await tempVault(vaultWithKeys());
    const { vault } = tmp;
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SSM: fake.url,
      AWS_REGION: "ap-southeast-2",
    });
    assert.equal(result.code, 0, result.stderr);
    const doc = await readVaultDoc(vault);
    assert.equal(at(doc, "A.B.C"), "value-abc-1");
    assert.equal(at(doc, "A.D"), "value-ad-2");
    assert.equal(at(doc, "FLAT"), "value-flat-3");
    assert.equal(at(doc, "x.y"), "value-xy-4");
    assertNoLeak(result, parameters.map((p) => p.value));
  });
});

Deno.test("SSM: DescribeParameters denied falls back to paging GetParametersByPath", async () => {
  const secure = dataopsParameters(25);
  const ssm = ssmFake(secure, testKeys(), { deny: ["DescribeParameters"] });
  ssm.faults.push(
    { status: 400, type: "ThrottlingException" },
    { status: 500 },
    { status: 400, type: "RequestLimitExceeded" },
  );
  await withFakes([ssm.handler], async ([fake]) => {
    await using tmp = await tempVault(vaultWithKeys());
    const { vault } = tmp;
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SSM: fake.url,
      SECRETS_SELECTION: "/dataops",
      SECRETS_STRIP_PREFIX: "/dataops/",
    });
    assert.equal(result.code, 0, result.stderr);
    const doc = await readVaultDoc(vault);
    for (const p of secure) {
      assert.equal(at(doc, p.name.slice("/dataops/".length).replaceAll("/", ".")), p.value);
    }
    assert.equal(ssm.calls.get("GetParametersByPath"), 3); // 25 parameters, 10 a page
    assert.equal(ssm.faults.length, 0);
    assertNoLeak(result, [...secure.map((p) => p.value), SECRET_KEY]);
  });
});

Deno.test("SSM: GetParameters denied (no kms:Decrypt or ssm:GetParameters) fails cleanly, vault unchanged", async () => {
  const secure = dataopsParameters(3);
  const ssm = ssmFake(secure, testKeys(), { deny: ["GetParameters"] });
  await withFakes([ssm.handler], async ([fake]) => {
    await using tmp = await tempVault(vaultWithKeys("KEEP: 1\n"));
    const { vault } = tmp;
    const before = await readBytes(vault);
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SSM: fake.url,
      SECRETS_SELECTION: "/dataops",
    });
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(
      result,
      /AWS SSM GetParameters for 3 parameters .* was refused: AccessDeniedException/,
    );
    assert.deepEqual(await readBytes(vault), before);
    assertNoLeak(result, [...secure.map((p) => p.value), SECRET_KEY]);
  });
});
