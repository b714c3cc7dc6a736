/**
 * Unit tests of SigV4 signing (`providers/aws/signer.ts`): AWS's documented example, the
 * `Authorization` header stock aws4fetch (WebCrypto hashes) computes for arbitrary
 * requests, the shared signing-key cache, and the fakes' independent verifier.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { AwsV4Signer } from "aws4fetch";
import { signAwsRequest, type SigningKeys } from "../providers/aws/signer.ts";
import { FakeKeyStore, verifySigV4 } from "./fakes/aws_sigv4.ts";

Deno.test("signAwsRequest: the signature of AWS's SigV4 test suite request get-vanilla", async () => {
  // aws-sig-v4-test-suite/get-vanilla: the suite's credentials, time, region and service.
  const signed = await signAwsRequest({
    method: "GET",
    url: "https://example.amazonaws.com/",
    headers: {},
    body: "",
    credentials: {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    },
    service: "service",
    region: "us-east-1",
    datetime: "20150830T123600Z",
  });
  assert.equal(
    signed.headers.get("authorization"),
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
      "SignedHeaders=host;x-amz-date, " +
      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
  );
  assert.equal(signed.headers.get("x-amz-date"), "20150830T123600Z");
});

const text = fc.string({ unit: "binary", maxLength: 40 });
const request = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT"),
  path: fc.array(fc.string({ unit: "grapheme", maxLength: 8 }), { maxLength: 3 }),
  query: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), text), { maxLength: 3 }),
  target: fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
  body: fc.string({ unit: "binary", maxLength: 300 }),
  accessKeyId: fc.stringMatching(/^[A-Z0-9]{16,20}$/),
  secretAccessKey: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }),
  sessionToken: fc.option(fc.stringMatching(/^[A-Za-z0-9+/=]{1,80}$/), { nil: undefined }),
  service: fc.constantFrom("secretsmanager", "ssm", "sts"),
  region: fc.constantFrom("us-east-1", "eu-west-2", "ap-southeast-1"),
  datetime: fc.date({
    min: new Date("2020-01-01T00:00:00Z"),
    max: new Date("2035-12-31T23:59:59Z"),
    noInvalidDate: true,
  }).map((d) => d.toISOString().replace(/[:-]|\.\d{3}/g, "")),
});

Deno.test("signAwsRequest: the headers stock aws4fetch computes with WebCrypto, for arbitrary requests", async () => {
  const keys: SigningKeys = new Map();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const url = new URL("https://example.amazonaws.com/");
      url.pathname = "/" + r.path.map(encodeURIComponent).join("/");
      for (const [k, v] of r.query) url.searchParams.append(k, v);
      const headers = { "content-type": "application/x-amz-json-1.1", "x-amz-target": r.target };
      const credentials = {
        accessKeyId: r.accessKeyId,
        secretAccessKey: r.secretAccessKey,
        sessionToken: r.sessionToken,
      };
      const { method, body, service, region, datetime } = r;
      const common = { url: url.href, method, headers, body, service, region, datetime };
      const ours = await signAwsRequest({ ...common, credentials, keys });
      const theirs = await new AwsV4Signer({ ...common, ...credentials }).sign();
      assert.deepEqual([...ours.headers], [...theirs.headers]);
      assert.equal(ours.url.href, theirs.url.href);
    }),
    { numRuns: 300 },
  );
});

Deno.test("signAwsRequest: a shared key cache keeps each secret key's signing key apart", async () => {
  const keys: SigningKeys = new Map();
  const sign = (secretAccessKey: string, cache?: SigningKeys) =>
    signAwsRequest({
      method: "POST",
      url: "https://secretsmanager.eu-west-2.amazonaws.com/",
      headers: { "x-amz-target": "secretsmanager.ListSecrets" },
      body: "{}",
      credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey },
      service: "secretsmanager",
      region: "eu-west-2",
      datetime: "20261201T120000Z",
      keys: cache,
    }).then((signed) => signed.headers.get("authorization"));
  const first = await sign("one", keys);
  assert.equal(await sign("one", keys), first);
  assert.equal(await sign("one"), first);
  const other = await sign("two", keys);
  assert.notEqual(other, first);
  assert.equal(await sign("two"), other);
  assert.equal(keys.size, 2);
});

Deno.test("signAwsRequest: the fakes' verifier accepts its signature and refuses a changed body", async () => {
  const keys = new FakeKeyStore().add("AKIAEXAMPLE", "secret/key+1");
  const body = JSON.stringify({ MaxResults: 100, NextToken: "a b+c/d=" });
  const signed = await signAwsRequest({
    method: "POST",
    url: "http://127.0.0.1:4566/",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "secretsmanager.ListSecrets",
    },
    body,
    credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret/key+1" },
    service: "secretsmanager",
    region: "eu-west-2",
  });
  // A server sees the host header the client adds on the wire.
  const headers = new Headers(signed.headers);
  headers.set("host", signed.url.host);
  const request = new Request(signed.url, { method: "POST", headers, body });
  const encoder = new TextEncoder();
  const ok = verifySigV4(request, encoder.encode(body), keys, "eu-west-2", "secretsmanager");
  assert.equal(ok.ok, true, ok.ok ? "" : await ok.response.text());
  const changed = verifySigV4(
    request,
    encoder.encode(body.replace("100", "99")),
    keys,
    "eu-west-2",
    "secretsmanager",
  );
  assert.equal(changed.ok, false);
});
