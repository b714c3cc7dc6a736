import assert from "node:assert/strict";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { readBytes, tempVault } from "./support/temp.ts";
import { runTool } from "./support/run_tool.ts";
import { ACCESS_KEY_ID, SECRET_KEY, testKeys, vaultWithKeys, withFakes } from "./support/aws.ts";
import { at, readVaultDoc } from "./support/vault.ts";
import { awsSandbox, type AwsService, configureAws } from "../providers/aws/config.ts";
import type { ProviderSettings, SandboxPlan } from "../lib/contract/provider.ts";
import { fixedVault, testSettings } from "./support/settings.ts";
import { containerFake } from "./fakes/aws_container.ts";
import { imdsFake } from "./fakes/aws_imds.ts";
import { type FakeSecret, secretsManagerFake } from "./fakes/aws_secrets_manager.ts";
import { stsFake } from "./fakes/aws_sts.ts";

const BASE = { SECRETS_MANAGER: "AWS_SECRETS_MANAGER", SECRETS_AWS_USE_ROLE: "true" };
const ROLE = "arn:aws:iam::123456789012:role/ci-secrets";

function secrets(count: number): FakeSecret[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `cred/s${i}`,
    string: `cred-value-${i}-${crypto.randomUUID()}`,
  }));
}

async function checkVault(vault: string, seeded: FakeSecret[]): Promise<void> {
  const doc = await readVaultDoc(vault);
  for (const secret of seeded) assert.equal(at(doc, secret.name.replace("/", ".")), secret.string);
}

Deno.test("credentials: keys from the environment, with a session token, when the role is requested", async () => {
  const keys = testKeys();
  const temp = keys.issue(3600_000);
  const seeded = secrets(3);
  const sm = secretsManagerFake(seeded, keys);
  await withFakes([sm.handler], async ([fake]) => {
    // The vault's (wrong) keys are ignored because SECRETS_AWS_USE_ROLE is true.
    await using scratch = await tempVault(
      vaultWithKeys("", "AKIAVAULTKEY00000000", "vault-secret-0000"),
    );
    const { vault } = scratch;
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      AWS_ACCESS_KEY_ID: temp.accessKeyId,
      AWS_SECRET_ACCESS_KEY: temp.secretAccessKey,
      AWS_SESSION_TOKEN: temp.sessionToken,
    });
    assert.equal(result.code, 0, result.stderr);
    await checkVault(vault, seeded);
    assertNoLeak(result, [
      ...seeded.map((s) => s.string!),
      temp.secretAccessKey,
      temp.sessionToken,
      "vault-secret-0000",
    ]);
  });
});

Deno.test("credentials: no keys in the vault falls through to the chain (env keys)", async () => {
  const seeded = secrets(2);
  const sm = secretsManagerFake(seeded, testKeys());
  await withFakes([sm.handler], async ([fake]) => {
    await using tmp = await tempVault("OTHER: x\n");
    const { vault } = tmp;
    const result = await runTool([], {
      SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL: fake.url,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    });
    assert.equal(result.code, 0, result.stderr);
    await checkVault(vault, seeded);
    assertNoLeak(result, [...seeded.map((s) => s.string!), SECRET_KEY]);
  });
});

Deno.test("credentials: web identity through STS, refreshed before expiry during a long load", async () => {
  const keys = testKeys();
  const token = `eyJhbGciOiJSUzI1NiJ9.${crypto.randomUUID()}.sig`;
  const sts = stsFake(new Map([[token, ROLE]]), keys, { lifetimeMs: 1500 });
  const seeded = secrets(80);
  const sm = secretsManagerFake(seeded, keys, { deny: ["BatchGetSecretValue"] });
  await withFakes([sm.handler, sts.handler], async ([smFake, stsServer]) => {
    await using tmp = await tempVault();
    const { dir, vault } = tmp;
    await Deno.writeTextFile(`${dir}/token`, token);
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
      AWS_ENDPOINT_URL_STS: stsServer.url,
      AWS_ROLE_ARN: ROLE,
      AWS_WEB_IDENTITY_TOKEN_FILE: `${dir}/token`,
      SECRETS_AWS_CONCURRENCY: "2",
    });
    assert.equal(result.code, 0, result.stderr);
    await checkVault(vault, seeded);
    assert.ok(sts.assumed >= 2, `assumed ${sts.assumed} times`);
    assert.equal(keys.expiredRejections, 0, "credentials were refreshed before they expired");
    assertNoLeak(result, [...seeded.map((s) => s.string!), token]);
  }, 40);
});

Deno.test("credentials: an untrusted web identity token is an authentication error", async () => {
  const keys = testKeys();
  const sts = stsFake(new Map([["the-trusted-token", ROLE]]), keys);
  const sm = secretsManagerFake(secrets(1), keys);
  await withFakes([sm.handler, sts.handler], async ([smFake, stsServer]) => {
    await using tmp = await tempVault("A: 1\n");
    const { dir, vault } = tmp;
    const before = await readBytes(vault);
    await Deno.writeTextFile(`${dir}/token`, "some-other-token-value");
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
      AWS_ENDPOINT_URL_STS: stsServer.url,
      AWS_ROLE_ARN: ROLE,
      AWS_WEB_IDENTITY_TOKEN_FILE: `${dir}/token`,
    });
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(result, /AssumeRoleWithWebIdentity .* refused: InvalidIdentityToken/);
    assert.deepEqual(await readBytes(vault), before);
    assertNoLeak(result, ["some-other-token-value"]);
  });
});

Deno.test("credentials: container endpoint with an authorization token file, refreshed", async () => {
  const keys = testKeys();
  const authorization = `container-auth-${crypto.randomUUID()}`;
  const container = containerFake(keys, { authorization, lifetimeMs: 1500 });
  const seeded = secrets(80);
  const sm = secretsManagerFake(seeded, keys, { deny: ["BatchGetSecretValue"] });
  await withFakes([sm.handler, container.handler], async ([smFake, endpoint]) => {
    await using tmp = await tempVault();
    const { dir, vault } = tmp;
    await Deno.writeTextFile(`${dir}/auth`, `${authorization}\n`);
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${endpoint.url}/v2/credentials/task`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: `${dir}/auth`,
      SECRETS_AWS_CONCURRENCY: "2",
    });
    assert.equal(result.code, 0, result.stderr);
    await checkVault(vault, seeded);
    assert.ok(container.issued >= 2, `issued ${container.issued}`);
    assert.equal(keys.expiredRejections, 0);
    assertNoLeak(result, [...seeded.map((s) => s.string!), authorization]);
  }, 40);
});

Deno.test("credentials: container endpoint refusing the authorization token", async () => {
  const keys = testKeys();
  const container = containerFake(keys, { authorization: "the-right-token" });
  const sm = secretsManagerFake(secrets(1), keys);
  await withFakes([sm.handler, container.handler], async ([smFake, endpoint]) => {
    await using tmp = await tempVault();
    const { vault } = tmp;
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${endpoint.url}/v2/credentials/task`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: "a-wrong-token",
    });
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(
      result,
      /container credentials: the endpoint refused the request \(HTTP 401\)/,
    );
    assert.equal(await readBytes(vault), null);
    assertNoLeak(result, ["a-wrong-token"]);
  });
});

for (const mode of ["required", "v1-only"] as const) {
  Deno.test(`credentials: EC2 instance role over IMDS (${mode === "required" ? "IMDSv2 token" : "no token, IMDSv1"})`, async () => {
    const keys = testKeys();
    const imds = imdsFake(keys, { tokens: mode });
    const seeded = secrets(3);
    const sm = secretsManagerFake(seeded, keys);
    await withFakes([sm.handler, imds.handler], async ([smFake, metadata]) => {
      await using tmp = await tempVault();
      const { vault } = tmp;
      const result = await runTool([], {
        ...BASE,
        SECRETS_VAULT_PATH: vault,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
        AWS_EC2_METADATA_SERVICE_ENDPOINT: metadata.url,
      });
      assert.equal(result.code, 0, result.stderr);
      await checkVault(vault, seeded);
      assert.equal(imds.issued, 1);
      assert.equal(imds.tokens, mode === "required" ? 1 : 0);
      assertNoLeak(result, seeded.map((s) => s.string!));
    });
  });
}

Deno.test("credentials: an IMDSv2 token request that times out names the hop limit", async () => {
  const keys = testKeys();
  const imds = imdsFake(keys, { dropTokenPutMs: 1500 });
  const sm = secretsManagerFake(secrets(1), keys);
  await withFakes([sm.handler, imds.handler], async ([smFake, metadata]) => {
    await using tmp = await tempVault("A: 1\n");
    const { vault } = tmp;
    const before = await readBytes(vault);
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: metadata.url,
    });
    assert.equal(result.code, 4, result.stderr);
    assertOneErrorLine(result, /hop limit is most likely 1 and a container needs 2/);
    assert.equal(sm.calls.size, 0);
    assert.deepEqual(await readBytes(vault), before);
  });
});

/** An AWS run's environment and the credentials its vault holds. */
interface Setup {
  settings: ProviderSettings;
  vault: Record<string, string>;
}

function settings(env: Record<string, string>, vault: Record<string, string> = {}): Setup {
  return { settings: testSettings({ env }), vault };
}

/** The sandbox plan the backend computes for `setup` (configure, then sandbox). */
async function planFor(setup: Setup, service: AwsService): Promise<SandboxPlan> {
  return awsSandbox(await configureAws(setup.settings, fixedVault(setup.vault), service));
}

Deno.test("sandbox: exactly the hosts and files the configured credential source needs", async () => {
  const vaultKeys = { "AWS.DEFAULT.S3_KEY": ACCESS_KEY_ID, "AWS.DEFAULT.S3_SECRET": SECRET_KEY };
  assert.deepEqual(await planFor(settings({}, vaultKeys), "secretsmanager"), {
    net: ["secretsmanager.eu-west-2.amazonaws.com:443"],
    read: [],
    run: [],
  });
  assert.deepEqual((await planFor(settings({ AWS_REGION: "us-east-1" }), "ssm")).net, [
    "ssm.us-east-1.amazonaws.com:443",
    "169.254.169.254:80",
  ]);
  assert.deepEqual(
    await planFor(
      settings({
        SECRETS_AWS_REGION: "eu-central-1",
        AWS_REGION: "us-east-1",
        AWS_ROLE_ARN: ROLE,
        AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token",
      }),
      "secretsmanager",
    ),
    {
      net: ["secretsmanager.eu-central-1.amazonaws.com:443", "sts.eu-central-1.amazonaws.com:443"],
      read: ["/var/run/token"],
      run: [],
    },
  );
  assert.deepEqual(
    await planFor(
      settings({
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/x",
        AWS_ENDPOINT_URL: "https://vpce-1.example:8443",
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/t",
      }),
      "ssm",
    ),
    { net: ["vpce-1.example:8443", "169.254.170.2:80"], read: ["/t"], run: [] },
  );
  assert.deepEqual(
    (await planFor(
      settings({
        AWS_ACCESS_KEY_ID: "AKIA1",
        AWS_SECRET_ACCESS_KEY: "x",
        SECRETS_AWS_USE_ROLE: "yes",
      }, vaultKeys),
      "ssm",
    )).net,
    ["ssm.eu-west-2.amazonaws.com:443"],
  );
  await assert.rejects(
    async () => await planFor(settings({}, { "AWS.DEFAULT.S3_KEY": ACCESS_KEY_ID }), "ssm"),
    /AWS.DEFAULT.S3_SECRET/,
  );
  await assert.rejects(
    async () =>
      await planFor(
        settings({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://evil.example/x" }),
        "ssm",
      ),
    /https/,
  );
  await assert.rejects(
    async () => await planFor(settings({ SECRETS_AWS_REGION: "nowhere" }), "ssm"),
    /region/,
  );
});

Deno.test("credentials: expired session keys from the environment fail with one clear line", async () => {
  const keys = testKeys();
  const expired = keys.issue(-60_000);
  const sm = secretsManagerFake(secrets(1), keys);
  await withFakes([sm.handler], async ([fake]) => {
    await using tmp = await tempVault("A: 1\n");
    const { vault } = tmp;
    const before = await readBytes(vault);
    const result = await runTool([], {
      ...BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      AWS_ACCESS_KEY_ID: expired.accessKeyId,
      AWS_SECRET_ACCESS_KEY: expired.secretAccessKey,
      AWS_SESSION_TOKEN: expired.sessionToken,
    });
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(result, /ListSecrets was refused: ExpiredTokenException/);
    assert.equal(sm.calls.get("ListSecrets"), undefined, "refused before the operation ran");
    assert.deepEqual(await readBytes(vault), before);
    assertNoLeak(result, [expired.secretAccessKey, expired.sessionToken]);
  });
});
