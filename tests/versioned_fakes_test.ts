/**
 * The fakes keep versions as the services do, checked request by request (signed, over
 * HTTP): Secrets Manager stages moving on rotation and its exact errors for an absent
 * `VersionId` or stage; SSM `name:version` / `name:label`, `ParameterVersionNotFound`,
 * labels moving between versions, `InvalidLabels` and `ParameterVersionLabelLimitExceeded`;
 * HashiCorp Vault KV version 2 `?version=N` with deleted and destroyed versions. (The Key
 * Vault fake's versions are exercised through the tool in `selectors_e2e_test.ts`.)
 */

import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { ACCESS_KEY_ID, SECRET_KEY, testKeys, withFakes } from "./support/aws.ts";
import { secretsManagerFake } from "./fakes/aws_secrets_manager.ts";
import { LABELS_PER_VERSION, ssmFake } from "./fakes/aws_ssm.ts";
import { ROOT_TOKEN, seed, startVault } from "./support/hashicorp_vault.ts";

async function call(
  service: string,
  url: string,
  target: string,
  body: unknown,
): Promise<{ status: number; type?: string; json: Record<string, unknown> }> {
  const aws = new AwsClient({
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_KEY,
    service,
    region: "eu-west-2",
    retries: 0,
  });
  const response = await aws.fetch(`${url}/`, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": target },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  return { status: response.status, type: json.__type?.split("#").pop(), json };
}

Deno.test("Secrets Manager fake: rotation moves AWSCURRENT and AWSPREVIOUS; pinned reads and their errors", async () => {
  const sm = secretsManagerFake([{ name: "db", string: "v1" }], testKeys());
  const first = sm.versionId("db")!;
  const second = sm.rotate("db", "v2");
  const third = sm.rotate("db", "v3");
  assert.match(third, /^[0-9a-f-]{36}$/);
  await withFakes([sm.handler], async ([fake]) => {
    const get = (input: Record<string, unknown>) =>
      call("secretsmanager", fake.url, "secretsmanager.GetSecretValue", {
        SecretId: "db",
        ...input,
      });
    const current = await get({});
    assert.equal(current.json.SecretString, "v3");
    assert.deepEqual(current.json.VersionStages, ["AWSCURRENT"]);
    const previous = await get({ VersionStage: "AWSPREVIOUS" });
    assert.equal(previous.json.SecretString, "v2");
    assert.equal(previous.json.VersionId, second);
    assert.equal(
      (await get({ VersionId: first })).json.SecretString,
      "v1",
      "unlabelled, still kept",
    );
    assert.equal((await get({ VersionId: second, VersionStage: "AWSPREVIOUS" })).status, 200);
    const absent = "0123456789abcdef0123456789abcdef";
    const noId = await get({ VersionId: absent });
    assert.equal(noId.type, "ResourceNotFoundException");
    assert.equal(
      noId.json.message,
      `Secrets Manager can't find the specified secret value for VersionId: ${absent}`,
    );
    const noStage = await get({ VersionStage: "AWSPENDING" });
    assert.equal(noStage.type, "ResourceNotFoundException");
    assert.match(String(noStage.json.message), /for staging label: AWSPENDING$/);
    assert.equal((await get({ VersionId: first, VersionStage: "AWSCURRENT" })).status, 400);
    assert.equal((await get({ VersionId: "short" })).type, "ValidationException");
    const listed = await call("secretsmanager", fake.url, "secretsmanager.ListSecrets", {});
    const [entry] = listed.json.SecretList as { SecretVersionsToStages: unknown }[];
    assert.deepEqual(entry.SecretVersionsToStages, {
      [second]: ["AWSPREVIOUS"],
      [third]: ["AWSCURRENT"],
    });
    const batch = await call("secretsmanager", fake.url, "secretsmanager.BatchGetSecretValue", {
      SecretIdList: ["db"],
    });
    assert.equal((batch.json.SecretValues as { SecretString: string }[])[0].SecretString, "v3");
  });
});

Deno.test("SSM fake: name:version and name:label, ParameterVersionNotFound, labels and their limits", async () => {
  const ssm = ssmFake(
    [{ name: "/a/pw", type: "SecureString", value: "v2", history: ["v1"] }],
    testKeys(),
  );
  await withFakes([ssm.handler], async ([fake]) => {
    const ssmCall = (op: string, input: unknown) => call("ssm", fake.url, `AmazonSSM.${op}`, input);
    const label = await ssmCall("LabelParameterVersion", {
      Name: "/a/pw",
      ParameterVersion: 1,
      Labels: ["old", "1bad", "awsx"],
    });
    assert.deepEqual(label.json, { InvalidLabels: ["1bad", "awsx"], ParameterVersion: 1 });
    const many = await ssmCall("GetParameters", {
      Names: ["/a/pw:1", "/a/pw:old", "/a/pw", "/a/pw:3", "/a/pw:nolabel"],
      WithDecryption: true,
    });
    const found = many.json.Parameters as { Value: string; Version: number; Selector?: string }[];
    assert.deepEqual(found.map((p) => [p.Value, p.Version, p.Selector]), [
      ["v1", 1, ":1"],
      ["v1", 1, ":old"],
      ["v2", 2, undefined],
    ]);
    assert.deepEqual(many.json.InvalidParameters, ["/a/pw:3", "/a/pw:nolabel"]);
    const one = await ssmCall("GetParameter", { Name: "/a/pw:3" });
    assert.equal(one.type, "ParameterVersionNotFound");
    assert.equal((await ssmCall("GetParameter", { Name: "/nope" })).type, "ParameterNotFound");
    // A label moves: attaching "old" to version 2 takes it off version 1.
    await ssmCall("LabelParameterVersion", { Name: "/a/pw", ParameterVersion: 2, Labels: ["old"] });
    const moved = await ssmCall("GetParameter", { Name: "/a/pw:old", WithDecryption: true });
    assert.equal((moved.json.Parameter as { Value: string }).Value, "v2");
    const labels = Array.from({ length: LABELS_PER_VERSION - 1 }, (_, i) => `l${i}`);
    assert.equal(
      (await ssmCall("LabelParameterVersion", {
        Name: "/a/pw",
        ParameterVersion: 2,
        Labels: labels,
      }))
        .status,
      200,
    );
    const over = await ssmCall("LabelParameterVersion", {
      Name: "/a/pw",
      ParameterVersion: 2,
      Labels: ["one-too-many"],
    });
    assert.equal(over.type, "ParameterVersionLabelLimitExceeded");
    const noVersion = await ssmCall("LabelParameterVersion", {
      Name: "/a/pw",
      ParameterVersion: 9,
      Labels: ["x"],
    });
    assert.equal(noVersion.type, "ParameterVersionNotFound");
  });
});

Deno.test("HashiCorp Vault fake: KV version 2 ?version=N, deleted and destroyed versions, absent ones", async () => {
  const data = seed();
  data.namespaces[""].secret.secrets["v/s"] = {
    data: { K: "v3" },
    history: [{ data: { K: "v1" }, destroyed: true }, { data: { K: "v2" }, deleted: true }],
  };
  await using world = startVault(data);
  const read = async (query: string) => {
    const response = await fetch(`${world.server.url}/v1/secret/data/v/s${query}`, {
      headers: { "X-Vault-Token": ROOT_TOKEN },
    });
    return { status: response.status, body: await response.json() };
  };
  const latest = await read("");
  assert.deepEqual([latest.status, latest.body.data.data, latest.body.data.metadata.version], [
    200,
    { K: "v3" },
    3,
  ]);
  assert.deepEqual((await read("?version=0")).body.data.data, { K: "v3" });
  const deleted = await read("?version=2");
  assert.equal(deleted.status, 404);
  assert.equal(deleted.body.data.data, null);
  assert.notEqual(deleted.body.data.metadata.deletion_time, "");
  const destroyed = await read("?version=1");
  assert.equal(destroyed.status, 404);
  assert.equal(destroyed.body.data.metadata.destroyed, true);
  const absent = await read("?version=7");
  assert.deepEqual([absent.status, absent.body], [404, { errors: [] }]);
});
