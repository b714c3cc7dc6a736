/**
 * Selector options end to end (`docs/selectors.md`): `;version=`, `;field=` and `;key=`
 * through the real tool against each backend's fake, which keeps versions as the service
 * does. Each test checks the vault exactly, the manifest's version, and that no value
 * leaks; failures exit with their documented code, one line, and the vault unchanged.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertNoLeak } from "./support/assertions.ts";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { readVaultDoc } from "./support/vault.ts";
import { SECRET_KEY, testKeys, vaultWithKeys, withFakes } from "./support/aws.ts";
import { secretsManagerFake } from "./fakes/aws_secrets_manager.ts";
import { ssmFake } from "./fakes/aws_ssm.ts";
import { FULL_ACCESS, imdsEnv, startAzure } from "./support/azure.ts";
import {
  ALL_VALUES,
  CREDENTIALS,
  ROOT_TOKEN,
  seed,
  startVault,
  VALUES,
  vaultEnv,
} from "./support/hashicorp_vault.ts";

/** The vault without the AWS keys the AWS tests keep in it. */
function withoutAws(doc: Record<string, unknown>): Record<string, unknown> {
  const { AWS: _aws, ...rest } = doc;
  return rest;
}

async function manifestKeys(vault: string): Promise<Record<string, { version?: string }>> {
  return JSON.parse(await Deno.readTextFile(`${vault}.manifest.json`)).keys;
}

const SM = { SECRETS_MANAGER: "AWS_SECRETS_MANAGER" };
const OLD_PW = "old-pw-7f3a9c1e";
const NEW_PW = "new-pw-2b8d4e6f";
const OLD_JSON = JSON.stringify({ user: "transform", password: OLD_PW });
const NEW_JSON = JSON.stringify({ user: "transform", password: NEW_PW });

Deno.test("Secrets Manager: ;version= pins AWSPREVIOUS or a VersionId after a rotation, with ;field= and ;key=", async () => {
  const sm = secretsManagerFake([
    { name: "prod/snowflake", string: OLD_JSON },
    { name: "prod/token", string: "token-v1-5e1c", history: ["token-v0-77aa"] },
    { name: "plain/one", string: "plain-value-9d0e" },
  ], testKeys());
  sm.rotate("prod/snowflake", NEW_JSON);
  const previousId = sm.versionId("prod/snowflake", "AWSPREVIOUS")!;
  const currentId = sm.versionId("prod/snowflake")!;
  const oldTokenId = sm.versionId("prod/token", "AWSPREVIOUS")!;
  await withFakes([sm.handler], async ([fake]) => {
    await using tmp = await tempVault(vaultWithKeys());
    const result = await runTool([], {
      ...SM,
      SECRETS_VAULT_PATH: tmp.vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      SECRETS_SELECTION: [
        "prod/snowflake;version=AWSPREVIOUS;field=password;key=SNOWFLAKE.OLD_PASSWORD",
        "prod/snowflake;field=password;key=SNOWFLAKE.PASSWORD",
        `prod/token;version=${oldTokenId}`,
        "plain/one",
      ].join(","),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(withoutAws(await readVaultDoc(tmp.vault)), {
      SNOWFLAKE: { OLD_PASSWORD: OLD_PW, PASSWORD: NEW_PW },
      prod: { token: "token-v0-77aa" },
      plain: { one: "plain-value-9d0e" },
    });
    const manifest = await manifestKeys(tmp.vault);
    assert.equal(manifest["SNOWFLAKE.OLD_PASSWORD"].version, previousId);
    assert.equal(manifest["SNOWFLAKE.PASSWORD"].version, currentId);
    assert.equal(manifest["prod.token"].version, oldTokenId);
    // Pinned and optioned selectors are read alone; the plain one still goes in a batch.
    assert.equal(sm.calls.get("GetSecretValue"), 3);
    assert.equal(sm.calls.get("BatchGetSecretValue"), 1);
    assertNoLeak(result, [OLD_PW, NEW_PW, OLD_JSON, NEW_JSON, "token-v0-77aa", SECRET_KEY]);
  });
});

Deno.test("Secrets Manager: ;key= alone puts a JSON secret's keys below it; --dry-run shows the version", async () => {
  const sm = secretsManagerFake([{ name: "prod/snowflake", string: OLD_JSON }], testKeys());
  sm.rotate("prod/snowflake", NEW_JSON);
  const previousId = sm.versionId("prod/snowflake", "AWSPREVIOUS")!;
  await withFakes([sm.handler], async ([fake]) => {
    await using tmp = await tempVault(vaultWithKeys());
    const env = {
      ...SM,
      SECRETS_VAULT_PATH: tmp.vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      SECRETS_SELECTION: "prod/snowflake;version=AWSPREVIOUS;key=SNOWFLAKE.OLD",
    };
    const dry = await runTool(["--dry-run"], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout + dry.stderr,
      new RegExp(`add +SNOWFLAKE\\.OLD\\.password .*version ${previousId}`),
    );
    const result = await runTool([], env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(withoutAws(await readVaultDoc(tmp.vault)), {
      SNOWFLAKE: { OLD: { user: "transform", password: OLD_PW } },
    });
    assertNoLeak(dry, [OLD_PW, NEW_PW, OLD_JSON]);
    assertNoLeak(result, [OLD_PW, NEW_PW, OLD_JSON]);
  });
});

Deno.test("Secrets Manager: a missing version is exit 2, a missing field exit 5, a key collision exit 5", async () => {
  const sm = secretsManagerFake([
    { name: "prod/snowflake", string: OLD_JSON },
    { name: "prod/plain", string: "not-json-4c2d" },
  ], testKeys());
  await withFakes([sm.handler], async ([fake]) => {
    const cases: [string, number, RegExp][] = [
      [
        "prod/snowflake;version=AWSPREVIOUS",
        2,
        /secret "prod\/snowflake" .*has no version AWSPREVIOUS/,
      ],
      [
        "prod/snowflake;version=0123456789abcdef0123456789abcdef",
        2,
        /"prod\/snowflake" .*has no version 0123456789abcdef0123456789abcdef/,
      ],
      ["prod/snowflake;field=passwd", 5, /secret "prod\/snowflake" has no field "passwd"/],
      ["prod/plain;field=password", 5, /secret "prod\/plain" is not a JSON object/],
      [
        "prod/snowflake;field=password;key=A.PW,prod/plain;key=A.PW",
        5,
        /secrets "prod\/(snowflake|plain)" and "prod\/(plain|snowflake)" both map to the vault key "A\.PW"/,
      ],
      ["prod/snowflake;verison=2", 2, /has a ";" that starts no option/],
      ["prod/snowflake;field=a..b", 2, /field="a\.\.b" with an empty segment/],
    ];
    for (const [selection, code, line] of cases) {
      await using tmp = await tempVault(vaultWithKeys("KEEP: me\n"));
      const snap = await snapshot(tmp.vault);
      const result = await runTool([], {
        ...SM,
        SECRETS_VAULT_PATH: tmp.vault,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
        SECRETS_SELECTION: selection,
      });
      await assertCleanFailure(result, snap, {
        code,
        line,
        secrets: [OLD_PW, OLD_JSON, "not-json-4c2d"],
      });
    }
    await using tmp = await tempVault(vaultWithKeys());
    const skipped = await runTool([], {
      ...SM,
      SECRETS_VAULT_PATH: tmp.vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      SECRETS_ALLOW_MISSING: "1",
      SECRETS_SELECTION: "prod/snowflake;version=AWSPENDING;key=X,prod/plain",
    });
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(
      skipped.stderr,
      /"prod\/snowflake" .*has no version AWSPENDING.*SECRETS_ALLOW_MISSING/,
    );
    assert.deepEqual(withoutAws(await readVaultDoc(tmp.vault)), {
      prod: { plain: "not-json-4c2d" },
    });
  });
});

const SSM = { SECRETS_MANAGER: "AWS_PARAMETER_STORE" };

Deno.test("SSM: ;version= reads name:3 and name:label, with ;field= and ;key=, beside a path selector", async () => {
  const ssm = ssmFake([
    { name: "/app/db/password", type: "SecureString", value: "pw-v1-aa11", history: [] },
    { name: "/app/db/json", type: "SecureString", value: NEW_JSON, history: [OLD_JSON] },
    { name: "/app/misc/other", type: "String", value: "other-v1-bb22" },
  ], testKeys());
  const v2 = ssm.put("/app/db/password", "pw-v2-cc33");
  ssm.put("/app/db/password", "pw-v3-dd44");
  assert.equal(ssm.label("/app/db/password", v2, ["previous"]).ParameterVersion, 2);
  ssm.label("/app/db/json", 1, ["before-rotation"]);
  await withFakes([ssm.handler], async ([fake]) => {
    await using tmp = await tempVault(vaultWithKeys());
    const result = await runTool([], {
      ...SSM,
      SECRETS_VAULT_PATH: tmp.vault,
      AWS_ENDPOINT_URL_SSM: fake.url,
      SECRETS_SELECTION: [
        "/app/db/password;version=1;key=PW.V1",
        "/app/db/password;version=previous;key=PW.PREVIOUS",
        "/app/db/json;version=before-rotation;field=password;key=PW.OLD_JSON",
        "/app/db/json;field=user",
        "/app/misc",
      ].join(","),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(withoutAws(await readVaultDoc(tmp.vault)), {
      PW: { V1: "pw-v1-aa11", PREVIOUS: "pw-v2-cc33", OLD_JSON: OLD_PW },
      app: { db: { json: { user: "transform" } }, misc: { other: "other-v1-bb22" } },
    });
    const manifest = await manifestKeys(tmp.vault);
    assert.equal(manifest["PW.V1"].version, "1");
    assert.equal(manifest["PW.PREVIOUS"].version, "2");
    assert.equal(manifest["PW.OLD_JSON"].version, "1");
    assert.equal(manifest["app.db.json.user"].version, "2");
    assertNoLeak(result, ["pw-v1-aa11", "pw-v2-cc33", "pw-v3-dd44", OLD_PW, NEW_PW, SECRET_KEY]);
  });
});

Deno.test("SSM: a missing version or label is exit 2 (or skipped with SECRETS_ALLOW_MISSING); a bad label is refused before any call", async () => {
  const ssm = ssmFake(
    [{ name: "/app/pw", type: "SecureString", value: "pw-only-ee55" }],
    testKeys(),
  );
  await withFakes([ssm.handler], async ([fake]) => {
    // The last field: whether the run may send requests (a malformed label is refused first).
    const cases: [string, RegExp, boolean][] = [
      ["/app/pw;version=7", /parameter \/app\/pw .*has no version or label 7/, true],
      ["/app/pw;version=nolabel", /parameter \/app\/pw .*has no version or label nolabel/, true],
      ["/app/pw;version=aws-x", /;version=aws-x, which is neither a parameter version/, false],
      ["/app/pw;version=0", /;version=0, which is neither/, false],
    ];
    for (const [selection, line, calls] of cases) {
      const before = fake.requests;
      await using tmp = await tempVault(vaultWithKeys());
      const snap = await snapshot(tmp.vault);
      const result = await runTool([], {
        ...SSM,
        SECRETS_VAULT_PATH: tmp.vault,
        AWS_ENDPOINT_URL_SSM: fake.url,
        SECRETS_SELECTION: selection,
      });
      await assertCleanFailure(result, snap, { code: 2, line, secrets: ["pw-only-ee55"] });
      if (!calls) assert.equal(fake.requests, before, `${selection}: no request`);
    }
    await using tmp = await tempVault(vaultWithKeys());
    const skipped = await runTool([], {
      ...SSM,
      SECRETS_VAULT_PATH: tmp.vault,
      AWS_ENDPOINT_URL_SSM: fake.url,
      SECRETS_ALLOW_MISSING: "true",
      SECRETS_SELECTION: "/app/pw;version=9,/app/pw;key=PW",
    });
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /has no version or label 9 .*SECRETS_ALLOW_MISSING/);
    assert.deepEqual(withoutAws(await readVaultDoc(tmp.vault)), { PW: "pw-only-ee55" });
  });
});

Deno.test("Key Vault: ;version= reads GET secrets/{name}/{version}, with ;field= and ;key=", async () => {
  await using world = startAzure({}, {
    secrets: [
      { name: "SNOWFLAKE-CREDS", value: NEW_JSON, history: [OLD_JSON] },
      { name: "API-TOKEN", value: "kv-token-new-1a2b", history: ["kv-token-old-3c4d"] },
    ],
    access: FULL_ACCESS,
  });
  const [oldCreds, newCreds] = world.kv.versions("SNOWFLAKE-CREDS");
  const [oldToken] = world.kv.versions("API-TOKEN");
  await using tmp = await tempVault();
  const result = await runTool([], {
    ...imdsEnv(world, tmp.vault),
    SECRETS_SELECTION: [
      `SNOWFLAKE-CREDS;version=${oldCreds};field=password;key=SNOWFLAKE.OLD_PASSWORD`,
      "SNOWFLAKE-CREDS;field=password",
      `API-TOKEN;version=${oldToken}`,
    ].join(","),
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await readVaultDoc(tmp.vault), {
    SNOWFLAKE: { OLD_PASSWORD: OLD_PW, CREDS: { password: NEW_PW } },
    API: { TOKEN: "kv-token-old-3c4d" },
  });
  const manifest = await manifestKeys(tmp.vault);
  assert.equal(manifest["SNOWFLAKE.OLD_PASSWORD"].version, oldCreds);
  assert.equal(manifest["SNOWFLAKE.CREDS.password"].version, newCreds);
  assert.equal(manifest["API.TOKEN"].version, oldToken);
  assertNoLeak(result, [OLD_PW, NEW_PW, OLD_JSON, NEW_JSON, "kv-token-old-3c4d"]);
});

Deno.test("Key Vault: an unknown version is exit 2 naming it; a malformed version is refused before any call", async () => {
  await using world = startAzure({}, {
    secrets: [{ name: "API-TOKEN", value: "kv-token-9e8f" }],
    access: FULL_ACCESS,
  });
  const unknown = "0123456789abcdef0123456789abcdef";
  const cases: [string, RegExp, boolean][] = [
    [
      `API-TOKEN;version=${unknown}`,
      new RegExp(`"API-TOKEN" version ${unknown} does not exist`),
      true,
    ],
    ["API-TOKEN;version=latest", /;version=latest, which is not a Key Vault secret version/, false],
    ["API-TOKEN;verison=1", /has a ";" that starts no option/, false],
  ];
  for (const [selection, line, calls] of cases) {
    const before = world.kvServer.requests + world.identityServer.requests;
    await using tmp = await tempVault("KEEP: me\n");
    const snap = await snapshot(tmp.vault);
    const result = await runTool([], {
      ...imdsEnv(world, tmp.vault),
      SECRETS_SELECTION: selection,
    });
    await assertCleanFailure(result, snap, { code: 2, line, secrets: ["kv-token-9e8f"] });
    const after = world.kvServer.requests + world.identityServer.requests;
    if (calls) assert.ok(after > before, `${selection}: the version was asked for`);
    else assert.equal(after, before, `${selection}: no request`);
  }
});

/** The standard Vault data set plus `secret/db/creds` with five KV version 2 versions. */
function versionedVault() {
  const data = seed();
  data.namespaces[""].secret.secrets["db/creds"] = {
    data: { user: "transform", password: "hv-pw-v5-5555" },
    history: [
      { data: { user: "transform", password: "hv-pw-v1-1111" } },
      { data: { user: "transform", password: "hv-pw-v2-2222" } },
      { data: { password: "hv-pw-v3-3333" }, deleted: true },
      { data: { password: "hv-pw-v4-4444" }, destroyed: true },
    ],
  };
  return startVault(data);
}
const HV_VALUES = [
  "hv-pw-v1-1111",
  "hv-pw-v2-2222",
  "hv-pw-v3-3333",
  "hv-pw-v4-4444",
  "hv-pw-v5-5555",
];

Deno.test("HashiCorp Vault: ;version= reads KV version 2 ?version=N, with ;field= (into JSON text) and ;key=", async () => {
  await using world = versionedVault();
  await using tmp = await tempVault();
  const result = await runTool(
    [],
    vaultEnv(world.server.url, tmp.vault, {
      SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
      SECRETS_SELECTION: [
        "secret/db/creds;version=1;field=password;key=DB.V1_PASSWORD",
        "secret/db/creds;version=2;key=DB.V2",
        "secret/db/creds;field=password",
        "secret/app/config;field=JSON.secret;key=APP.SECRET",
      ].join(","),
    }),
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await readVaultDoc(tmp.vault), {
    APP: { SECRET: VALUES.appConfigSecret },
    DB: { V1_PASSWORD: "hv-pw-v1-1111", V2: { user: "transform", password: "hv-pw-v2-2222" } },
    db: { creds: { password: "hv-pw-v5-5555" } },
  });
  const manifest = await manifestKeys(tmp.vault);
  assert.equal(manifest["DB.V1_PASSWORD"].version, "1");
  assert.equal(manifest["DB.V2.password"].version, "2");
  assert.equal(manifest["db.creds.password"].version, "5");
  assertNoLeak(result, [...HV_VALUES, ...ALL_VALUES, ...CREDENTIALS]);

  // On a folder, ;field= applies to every secret below it.
  await using folder = await tempVault();
  const walked = await runTool(
    [],
    vaultEnv(world.server.url, folder.vault, {
      SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
      SECRETS_SELECTION: "secret/SNOWFLAKE;field=PASSWORD",
    }),
  );
  assert.equal(walked.code, 0, walked.stderr);
  assert.deepEqual(await readVaultDoc(folder.vault), {
    SNOWFLAKE: {
      TRANSFORM: { PASSWORD: VALUES.transformPassword },
      INGEST: { deep: { CREDS: { PASSWORD: VALUES.ingestPassword } } },
    },
  });
  assertNoLeak(walked, [...HV_VALUES, ...ALL_VALUES, ...CREDENTIALS]);
});

Deno.test("HashiCorp Vault: an absent, deleted or destroyed pinned version is exit 2; KV version 1 and folders cannot pin", async () => {
  await using world = versionedVault();
  const cases: [string, Record<string, string>, number, RegExp][] = [
    ["secret/db/creds;version=9", {}, 2, /secret\/db\/creds has no version 9/],
    ["secret/db/creds;version=3", {}, 2, /secret\/db\/creds version 3 was deleted at 2026-/],
    ["secret/db/creds;version=4", {}, 2, /secret\/db\/creds version 4 is destroyed/],
    ["secret/db/;version=1", {}, 2, /pins a version of a folder or mount/],
    ["secret/db/creds;version=two", {}, 2, /a KV version 2 version is a whole number from 1/],
    [
      "kv1/legacy/db;version=1",
      { SECRETS_HASHICORP_VAULT_KV_VERSION: "1" },
      2,
      /KV version 1 keeps no versions/,
    ],
    ["secret/db/creds;field=nope", {}, 5, /secret "secret\/db\/creds" has no field "nope"/],
  ];
  for (const [selection, extra, code, line] of cases) {
    await using tmp = await tempVault("KEEP: me\n");
    const snap = await snapshot(tmp.vault);
    const result = await runTool(
      [],
      vaultEnv(world.server.url, tmp.vault, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
        SECRETS_SELECTION: selection,
        ...extra,
      }),
    );
    await assertCleanFailure(result, snap, {
      code,
      line,
      secrets: [...HV_VALUES, ...ALL_VALUES, ...CREDENTIALS],
    });
  }
  await using tmp = await tempVault();
  const skipped = await runTool(
    [],
    vaultEnv(world.server.url, tmp.vault, {
      SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
      SECRETS_ALLOW_MISSING: "1",
      SECRETS_SELECTION:
        "secret/db/creds;version=3;key=OLD,secret/db/creds;version=2;field=user;key=U",
    }),
  );
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(
    skipped.stderr,
    /skipped secret\/db\/creds: version 3 was deleted at .*SECRETS_ALLOW_MISSING/,
  );
  assert.deepEqual(await readVaultDoc(tmp.vault), { U: "transform" });
});
