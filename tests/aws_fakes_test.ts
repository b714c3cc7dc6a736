import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { ACCESS_KEY_ID, SECRET_KEY, testKeys, withFakes } from "./support/aws.ts";
import { imdsFake } from "./fakes/aws_imds.ts";
import { secretsManagerFake } from "./fakes/aws_secrets_manager.ts";
import { ssmFake } from "./fakes/aws_ssm.ts";
import { stsFake } from "./fakes/aws_sts.ts";

const JSON_11 = "application/x-amz-json-1.1";

function client(
  service: string,
  keyId = ACCESS_KEY_ID,
  secret = SECRET_KEY,
  sessionToken?: string,
) {
  return new AwsClient({
    accessKeyId: keyId,
    secretAccessKey: secret,
    sessionToken,
    service,
    region: "eu-west-2",
    retries: 0,
  });
}

async function call(
  aws: AwsClient,
  url: string,
  target: string,
  body: unknown,
  contentType = JSON_11,
): Promise<{ status: number; type?: string }> {
  const response = await aws.fetch(`${url}/`, {
    method: "POST",
    headers: { "content-type": contentType, "x-amz-target": target },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  return { status: response.status, type: json.__type?.split("#").pop() };
}

Deno.test("AWS fakes reject what AWS rejects: signatures, keys, tokens, targets, content type, limits", async () => {
  const keys = testKeys();
  const temp = keys.issue(3600_000);
  const expired = keys.issue(-1000);
  const sm = secretsManagerFake([{ name: "a", string: "value-a" }], keys);
  const ssm = ssmFake([{ name: "/p/q", type: "SecureString", value: "v" }], keys);
  await withFakes([sm.handler, ssm.handler], async ([smUrl, ssmUrl]) => {
    const good = client("secretsmanager");
    const ok = await call(good, smUrl.url, "secretsmanager.ListSecrets", {});
    assert.equal(ok.status, 200);
    const cases: [string, Promise<{ status: number; type?: string }>, string][] = [
      [
        "wrong secret key",
        call(
          client("secretsmanager", ACCESS_KEY_ID, "nope"),
          smUrl.url,
          "secretsmanager.ListSecrets",
          {},
        ),
        "InvalidSignatureException",
      ],
      [
        "unknown key id",
        call(
          client("secretsmanager", "AKIANOTKNOWN00000000"),
          smUrl.url,
          "secretsmanager.ListSecrets",
          {},
        ),
        "UnrecognizedClientException",
      ],
      [
        "temporary key without its session token",
        call(
          client("secretsmanager", temp.accessKeyId, temp.secretAccessKey),
          smUrl.url,
          "secretsmanager.ListSecrets",
          {},
        ),
        "UnrecognizedClientException",
      ],
      [
        "expired temporary key",
        call(
          client(
            "secretsmanager",
            expired.accessKeyId,
            expired.secretAccessKey,
            expired.sessionToken,
          ),
          smUrl.url,
          "secretsmanager.ListSecrets",
          {},
        ),
        "ExpiredTokenException",
      ],
      [
        "signed for the wrong service",
        call(client("ssm"), smUrl.url, "secretsmanager.ListSecrets", {}),
        "InvalidSignatureException",
      ],
      [
        "unknown target",
        call(good, smUrl.url, "secretsmanager.DeleteSecret", {}),
        "UnknownOperationException",
      ],
      [
        "other service's target",
        call(good, smUrl.url, "AmazonSSM.GetParameters", {}),
        "UnknownOperationException",
      ],
      [
        "plain JSON content type",
        call(good, smUrl.url, "secretsmanager.ListSecrets", {}, "application/json"),
        "SerializationException",
      ],
      [
        "ListSecrets MaxResults 101",
        call(good, smUrl.url, "secretsmanager.ListSecrets", { MaxResults: 101 }),
        "ValidationException",
      ],
      [
        "BatchGetSecretValue of 21 ids",
        call(good, smUrl.url, "secretsmanager.BatchGetSecretValue", {
          SecretIdList: Array(21).fill("a"),
        }),
        "ValidationException",
      ],
      [
        "GetParametersByPath MaxResults 11",
        call(client("ssm"), ssmUrl.url, "AmazonSSM.GetParametersByPath", {
          Path: "/p",
          MaxResults: 11,
        }),
        "ValidationException",
      ],
      [
        "GetParametersByPath without a leading slash",
        call(client("ssm"), ssmUrl.url, "AmazonSSM.GetParametersByPath", { Path: "p" }),
        "ValidationException",
      ],
      [
        "DescribeParameters MaxResults 51",
        call(client("ssm"), ssmUrl.url, "AmazonSSM.DescribeParameters", { MaxResults: 51 }),
        "ValidationException",
      ],
      [
        "GetParameters of 11 names",
        call(client("ssm"), ssmUrl.url, "AmazonSSM.GetParameters", {
          Names: Array(11).fill("/p/q"),
        }),
        "ValidationException",
      ],
    ];
    for (const [label, pending, type] of cases) {
      const result = await pending;
      assert.equal(result.status, 400, label);
      assert.equal(result.type, type, label);
    }
    const unsigned = await fetch(`${smUrl.url}/`, {
      method: "POST",
      headers: { "content-type": JSON_11, "x-amz-target": "secretsmanager.ListSecrets" },
      body: "{}",
    });
    assert.equal(
      (await unsigned.json()).__type.split("#").pop(),
      "MissingAuthenticationTokenException",
    );
    const signed = await good.sign(`${smUrl.url}/`, {
      method: "POST",
      headers: { "content-type": JSON_11, "x-amz-target": "secretsmanager.ListSecrets" },
      body: "{}",
    });
    const tampered = await fetch(signed.url, {
      method: "POST",
      headers: signed.headers,
      body: '{"MaxResults":1}',
    });
    assert.equal((await tampered.json()).__type.split("#").pop(), "InvalidSignatureException");
    const encryptedValue = await (await client("ssm").fetch(`${ssmUrl.url}/`, {
      method: "POST",
      headers: { "content-type": JSON_11, "x-amz-target": "AmazonSSM.GetParameters" },
      body: JSON.stringify({ Names: ["/p/q"] }),
    })).json();
    assert.notEqual(encryptedValue.Parameters[0].Value, "v", "SecureString needs WithDecryption");
  });
});

Deno.test("IMDS fake: GETs need a valid token; STS fake checks the action, version and token", async () => {
  const keys = testKeys();
  const imds = imdsFake(keys);
  const sts = stsFake(new Map([["trusted", "arn:aws:iam::1:role/r"]]), keys);
  await withFakes([imds.handler, sts.handler], async ([metadata, stsServer]) => {
    const path = `${metadata.url}/latest/meta-data/iam/security-credentials/`;
    assert.equal(await fetch(path).then(async (r) => (await r.body?.cancel(), r.status)), 401);
    const bad = await fetch(path, { headers: { "x-aws-ec2-metadata-token": "forged" } });
    await bad.body?.cancel();
    assert.equal(bad.status, 401);
    const noTtl = await fetch(`${metadata.url}/latest/api/token`, { method: "PUT" });
    await noTtl.body?.cancel();
    assert.equal(noTtl.status, 400);
    const token = await (await fetch(`${metadata.url}/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
    })).text();
    assert.equal(
      await (await fetch(path, { headers: { "x-aws-ec2-metadata-token": token } })).text(),
      "ci-runner",
    );

    const form = (params: Record<string, string>) =>
      fetch(`${stsServer.url}/`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(params),
      }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const base = {
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: "arn:aws:iam::1:role/r",
      RoleSessionName: "s",
    };
    assert.match(
      (await form({ ...base, RoleSessionName: "ok", WebIdentityToken: "untrusted" })).text,
      /<Code>InvalidIdentityToken<\/Code>/,
    );
    assert.match(
      (await form({ ...base, Version: "2010-01-01", WebIdentityToken: "trusted" })).text,
      /InvalidAction/,
    );
    assert.match(
      (await form({
        ...base,
        RoleSessionName: "ok",
        RoleArn: "arn:aws:iam::1:role/other",
        WebIdentityToken: "trusted",
      })).text,
      /AccessDenied/,
    );
    const okAnswer = await form({ ...base, RoleSessionName: "ok", WebIdentityToken: "trusted" });
    assert.equal(okAnswer.status, 200);
    assert.match(okAnswer.text, /<AccessKeyId>ASIA[A-Z0-9]{16}<\/AccessKeyId>/);
  });
});
