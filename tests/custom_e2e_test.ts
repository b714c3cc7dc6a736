/**
 * End-to-end tests of the CUSTOM and NONE backends: `deno run -P main.ts` as a
 * subprocess with the production permission set, checking the vault file it leaves.
 */
import assert from "node:assert/strict";
import { readVaultDoc } from "./support/vault.ts";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { readBytes, tempVault } from "./support/temp.ts";
import { type RunResult, runTool } from "./support/run_tool.ts";

const PASSWORD = "s3cr3t-transform-password";
const INGEST = "ingest-pa55word-value";
const SECRETS = [PASSWORD, INGEST];

async function script(dir: string, body: string): Promise<string> {
  const path = `${dir}/get_secrets.py`;
  await Deno.writeTextFile(path, body);
  return path;
}

const GOOD = `
def get_secrets():
    return {
        "SNOWFLAKE.TRANSFORM.USERNAME": "transform_user",
        "SNOWFLAKE.TRANSFORM.PASSWORD": "${PASSWORD}",
        "SNOWFLAKE.INGEST": {"PASSWORD": "${INGEST}", "PORT": 443},
    }
`;

function custom(vault: string, path: string, extra: Record<string, string> = {}) {
  return {
    SECRETS_MANAGER: "CUSTOM",
    SECRETS_CUSTOM_SCRIPT: path,
    SECRETS_VAULT_PATH: vault,
    ...extra,
  };
}

async function run(args: string[], env: Record<string, string>): Promise<RunResult> {
  const result = await runTool(args, env);
  assertNoLeak(result, SECRETS);
  return result;
}

Deno.test("custom script: secrets are merged into the vault, keeping existing keys and comments", async () => {
  await using scratch = await tempVault(
    "# team vault\nAWS:\n  DEFAULT:\n    S3_KEY: k # rotated\n",
  );
  const { dir, vault } = scratch;
  const result = await run(["--verbose"], custom(vault, await script(dir, GOOD)));
  assert.equal(result.code, 0, result.stderr);
  const text = await Deno.readTextFile(vault);
  assert.match(text, /^# team vault\n/);
  assert.match(text, /S3_KEY: k # rotated/);
  assert.deepEqual(await readVaultDoc(vault), {
    AWS: { DEFAULT: { S3_KEY: "k" } },
    SNOWFLAKE: {
      INGEST: { PASSWORD: INGEST, PORT: 443 },
      TRANSFORM: { PASSWORD, USERNAME: "transform_user" },
    },
  });
  assert.equal((await Deno.stat(vault)).mode! & 0o777, 0o600);
  assert.match(result.stderr, /4 added, 0 changed, 0 unchanged/);
});

Deno.test("custom script: a relative path resolves against CI_PROJECT_DIR", async () => {
  await using tmp = await tempVault();
  const { dir, vault } = tmp;
  await script(dir, GOOD);
  const result = await run([], custom(vault, "get_secrets.py", { CI_PROJECT_DIR: dir }));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    (await readVaultDoc(vault) as { SNOWFLAKE: { TRANSFORM: { PASSWORD: string } } }).SNOWFLAKE
      .TRANSFORM.PASSWORD,
    PASSWORD,
  );
});

Deno.test("custom script: printing noise (stdout, stderr, the secret itself) does not corrupt the result or leak", async () => {
  await using tmp = await tempVault();
  const { dir, vault } = tmp;
  const path = await script(
    dir,
    `import os, sys
print("noise on stdout {")
print("${PASSWORD}")
sys.stderr.write("noise on stderr\\n")
os.write(1, b"raw fd 1 noise\\n")
${GOOD}
`,
  );
  for (const flags of [[], ["--verbose"]]) {
    const result = await run(flags, custom(vault, path));
    assert.equal(result.code, 0, result.stderr);
  }
  const js = await readVaultDoc(vault) as { SNOWFLAKE: { TRANSFORM: { PASSWORD: string } } };
  assert.equal(js.SNOWFLAKE.TRANSFORM.PASSWORD, PASSWORD);
});

Deno.test("custom script: raising, a non-dict, a missing get_secrets and a timeout fail cleanly", async () => {
  await using tmp = await tempVault("KEEP: me\n");
  const { dir, vault } = tmp;
  const before = await readBytes(vault);
  const cases: [string, RegExp, Record<string, string>][] = [
    [
      "def get_secrets():\n    raise RuntimeError('store unreachable')\n",
      /RuntimeError raised at get_secrets\.py line 2; run with --verbose to see its message/,
      {},
    ],
    ["def get_secrets():\n    return ['a']\n", /returned list, not a dict/, {}],
    ["x = 1\n", /defines no get_secrets\(\) function/, {}],
    [
      "def get_secrets():\n    return {'A': object()}\n",
      /gives 'A' a object/,
      {},
    ],
    [
      "import time\ndef get_secrets():\n    time.sleep(30)\n",
      /SECRETS_CUSTOM_TIMEOUT/,
      { SECRETS_CUSTOM_TIMEOUT: "1" },
    ],
    ["import os\nos._exit(3)\n", /exited with code 3/, {}],
  ];
  for (const [body, pattern, extra] of cases) {
    const result = await run([], custom(vault, await script(dir, body), extra));
    assert.equal(result.code, 2, `${body}\n${result.stderr}`);
    assertOneErrorLine(result, pattern);
    assert.deepEqual(await readBytes(vault), before);
  }
});

Deno.test("a conflict with the existing vault fails and leaves it byte-for-byte unchanged", async () => {
  await using tmp = await tempVault("SNOWFLAKE:\n  TRANSFORM: a-plain-value\n");
  const { dir, vault } = tmp;
  const before = await readBytes(vault);
  const result = await run([], custom(vault, await script(dir, GOOD)));
  assert.equal(result.code, 5);
  assertOneErrorLine(result, /"SNOWFLAKE\.TRANSFORM" holds a value/);
  assert.deepEqual(await readBytes(vault), before);
});

Deno.test("a conflict within the fetched secrets names both keys", async () => {
  await using tmp = await tempVault();
  const { dir, vault } = tmp;
  const body = `def get_secrets():\n    return {"A.B": "${PASSWORD}", "A.B.C": "${INGEST}"}\n`;
  const result = await run([], custom(vault, await script(dir, body)));
  assert.equal(result.code, 5);
  assertOneErrorLine(result, /"A\.B".*"A\.B\.C"/);
  assert.equal(await readBytes(vault), null);
});

Deno.test("an invalid YAML vault is an error with its line number, and nothing is written", async () => {
  await using tmp = await tempVault("A: 1\nB: [oops\n");
  const { dir, vault } = tmp;
  const before = await readBytes(vault);
  const result = await run([], custom(vault, await script(dir, GOOD)));
  assert.equal(result.code, 6);
  assertOneErrorLine(result, /not valid YAML at line \d/);
  assert.deepEqual(await readBytes(vault), before);
});

Deno.test("malformed JSON under SECRETS_EXPAND_JSON names the secret, not its value", async () => {
  await using tmp = await tempVault();
  const { dir, vault } = tmp;
  const body = `def get_secrets():\n    return {"DB": '{"PASSWORD": "${PASSWORD}"'}\n`;
  const result = await run(
    [],
    custom(vault, await script(dir, body), { SECRETS_EXPAND_JSON: "yes" }),
  );
  assert.equal(result.code, 5);
  assertOneErrorLine(result, /secret "DB" looks like JSON but does not parse/);
  assert.equal(await readBytes(vault), null);
});

Deno.test("SECRETS_EXPAND_JSON merges JSON values below the secret's path", async () => {
  await using tmp = await tempVault();
  const { dir, vault } = tmp;
  const body =
    `def get_secrets():\n    return {"SNOWFLAKE": '{"TRANSFORM": {"PASSWORD": "${PASSWORD}"}}'}\n`;
  const result = await run(
    [],
    custom(vault, await script(dir, body), { SECRETS_EXPAND_JSON: "True" }),
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await readVaultDoc(vault), { SNOWFLAKE: { TRANSFORM: { PASSWORD } } });
});

Deno.test("filter and strip prefix apply to custom names", async () => {
  await using tmp = await tempVault();
  const { dir, vault } = tmp;
  const body =
    `def get_secrets():\n    return {"DEV.A": "${PASSWORD}", "DEV.B": "${INGEST}", "PROD.C": "x-prod"}\n`;
  const env = custom(vault, await script(dir, body), {
    SECRETS_SELECTION_FILTER: "DEV.",
    SECRETS_STRIP_PREFIX: "DEV.",
  });
  const result = await run([], env);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await readVaultDoc(vault), { A: PASSWORD, B: INGEST });
});

Deno.test("--dry-run prints added, changed and unchanged keys, never values, and writes nothing", async () => {
  await using scratch = await tempVault(
    `SNOWFLAKE:\n  TRANSFORM:\n    USERNAME: transform_user\n    PASSWORD: old-password-value\n`,
  );
  const { dir, vault } = scratch;
  const before = await readBytes(vault);
  const result = await run(["--dry-run"], custom(vault, await script(dir, GOOD)));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    [
      'add       SNOWFLAKE.INGEST.PASSWORD  from CUSTOM "SNOWFLAKE.INGEST"',
      'add       SNOWFLAKE.INGEST.PORT  from CUSTOM "SNOWFLAKE.INGEST"',
      'change    SNOWFLAKE.TRANSFORM.PASSWORD  from CUSTOM "SNOWFLAKE.TRANSFORM.PASSWORD"',
      'unchanged SNOWFLAKE.TRANSFORM.USERNAME  from CUSTOM "SNOWFLAKE.TRANSFORM.USERNAME"',
      "",
    ].join("\n"),
  );
  assert.ok(!result.stdout.includes("old-password-value"));
  assert.deepEqual(await readBytes(vault), before);
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  assert.deepEqual(names.sort(), ["get_secrets.py", "vault.yml"]);
});

Deno.test("two concurrent loads on one vault keep both runs' keys", async () => {
  await using tmp = await tempVault("BASE: kept\n");
  const { dir, vault } = tmp;
  const one = `${dir}/one.py`;
  const two = `${dir}/two.py`;
  await Deno.writeTextFile(one, `def get_secrets():\n    return {"RUN.ONE": "${PASSWORD}"}\n`);
  await Deno.writeTextFile(two, `def get_secrets():\n    return {"RUN.TWO": "${INGEST}"}\n`);
  for (let round = 0; round < 3; round++) {
    await Deno.writeTextFile(vault, "BASE: kept\n");
    const results = await Promise.all([run([], custom(vault, one)), run([], custom(vault, two))]);
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await readVaultDoc(vault), {
      BASE: "kept",
      RUN: { ONE: PASSWORD, TWO: INGEST },
    });
  }
});

Deno.test("NONE reads and validates the vault and leaves it unchanged", async () => {
  await using tmp = await tempVault("# c\nA: 1\n");
  const { vault } = tmp;
  const before = await readBytes(vault);
  const ok = await run([], { SECRETS_MANAGER: "NONE", SECRETS_VAULT_PATH: vault });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(await readBytes(vault), before);
  await Deno.writeTextFile(vault, "A: [\n");
  const bad = await run([], { SECRETS_MANAGER: "none", SECRETS_VAULT_PATH: vault });
  assert.equal(bad.code, 6);
});

Deno.test("bad configuration gives one clear line and exit code 2", async () => {
  await using tmp = await tempVault();
  const { vault } = tmp;
  const cases: [Record<string, string>, RegExp][] = [
    [{ SECRETS_MANAGER: "FOO" }, /SECRETS_MANAGER="FOO" is not a backend; use one of/],
    [{ SECRETS_MANAGER: "NONE", SECRETS_EXPAND_JSON: "maybe" }, /SECRETS_EXPAND_JSON="maybe"/],
    [{ SECRETS_MANAGER: "CUSTOM" }, /needs SECRETS_CUSTOM_SCRIPT/],
    [
      { SECRETS_MANAGER: "CUSTOM", SECRETS_CUSTOM_SCRIPT: "/nonexistent/s.py" },
      /does not exist/,
    ],
  ];
  for (const [env, pattern] of cases) {
    const result = await run([], { SECRETS_VAULT_PATH: vault, ...env });
    assert.equal(result.code, 2, result.stderr);
    assertOneErrorLine(result, pattern);
  }
  const flag = await run(["--bogus"], { SECRETS_VAULT_PATH: vault });
  assert.equal(flag.code, 2);
});

Deno.test("--help and --version print to stdout, nothing on stderr, and exit 0", async () => {
  const help = await run(["--help"], { SECRETS_MANAGER: "FOO" });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: secrets-orchestrator/);
  assert.match(help.stdout, /Exit codes: 0 ok, 1 unexpected failure .*, 6 vault file\.\n$/);
  assert.equal(help.stderr, "");
  const version = await run(["--version"], {});
  assert.equal(version.code, 0);
  // The version, the target, and the commit (a checkout has none; a build embeds it).
  assert.match(
    version.stdout,
    /^secrets-orchestrator \d+\.\d+\.\d+ \([a-z0-9_]+-[a-z0-9_-]+, commit ([0-9a-f]{7,40}|unknown|none: run from a checkout)\)\n$/,
  );
  assert.equal(version.stderr, "");
});
