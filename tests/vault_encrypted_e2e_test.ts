import assert from "node:assert/strict";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { disposeAll, readBytes, tempVault } from "./support/temp.ts";
import { runTool } from "./support/run_tool.ts";
import { customEnv, customSource, sh } from "./support/custom_source.ts";
import { derivedForms } from "../lib/output/redact.ts";

const KEY = "k3y-for-tests-0123456789abcdef";
const SECRETS = {
  "SNOWFLAKE.TRANSFORM.USERNAME": "transform_user",
  "SNOWFLAKE.TRANSFORM.PASSWORD": `p'a"ss $HOME \`id\` \\n # : {x}\nsecond line`,
  "API.TOKEN": "tok-7f3a9c2e5b",
};
const VALUES = Object.values(SECRETS);

async function encryptedLoad() {
  const source = await customSource(SECRETS);
  const tmp = await tempVault();
  const { dir, vault } = tmp;
  const env = customEnv(source.script, vault, { DATAOPS_VAULT_KEY: KEY });
  const result = await runTool([], env);
  assertNoLeak(result, [...VALUES, KEY]);
  assert.equal(result.code, 0, result.stderr);
  return { dir, vault, env, enc: `${vault}.enc`, [Symbol.asyncDispose]: disposeAll(source, tmp) };
}

/** Every file in `dir` (temp files included) must be free of every form of every value. */
async function assertNoPlaintextOnDisk(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    const text = await Deno.readTextFile(`${dir}/${entry.name}`);
    for (const value of VALUES) {
      for (const form of derivedForms(value)) {
        assert.ok(!text.includes(form), `${entry.name} holds a form of a value`);
      }
    }
  }
}

Deno.test("encrypted load, then get, render and export give back every value exactly", async () => {
  await using fixture = await encryptedLoad();
  const { dir, vault, env, enc } = fixture;
  assert.equal(await readBytes(vault), null, "no plain vault is written");
  const jwe = (await Deno.readTextFile(enc)).trim();
  assert.equal(jwe.split(".").length, 5);
  const header = JSON.parse(atob(jwe.split(".")[0].replaceAll("-", "+").replaceAll("_", "/")));
  assert.equal(header.alg, "dir");
  assert.equal(header.enc, "A256GCM");
  assert.equal((await Deno.stat(enc)).mode! & 0o777, 0o600);
  const salt = await Deno.readTextFile(`${dir}/vault.salt`);
  assert.match(salt.trim(), /^[0-9a-f]{20}$/);
  assert.equal((await Deno.stat(`${dir}/vault.salt`)).mode! & 0o777, 0o600);
  await assertNoPlaintextOnDisk(dir);

  for (const [key, value] of Object.entries(SECRETS)) {
    const got = await runTool(["get", key], env);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, value);
    assertNoLeak({ ...got, stdout: "" }, [...VALUES, KEY]);
  }

  const template = `${dir}/profile.tpl`;
  await Deno.writeTextFile(
    template,
    "user: {{ SNOWFLAKE.TRANSFORM.USERNAME }}\npass: DATAOPS_VAULT(SNOWFLAKE.TRANSFORM.PASSWORD)\n" +
      "role: {{ SNOWFLAKE.TRANSFORM.ROLE | default('ANALYST') }}\n",
  );
  const out = `${dir}/profile.yml`;
  const rendered = await runTool(["render", template, "-o", out], env);
  assert.equal(rendered.code, 0, rendered.stderr);
  assertNoLeak(rendered, [...VALUES, KEY]);
  assert.equal(
    await Deno.readTextFile(out),
    `user: transform_user\npass: ${SECRETS["SNOWFLAKE.TRANSFORM.PASSWORD"]}\nrole: ANALYST\n`,
  );
  assert.equal((await Deno.stat(out)).mode! & 0o777, 0o600);

  const exported = await runTool(["export", "--format", "dotenv"], env);
  assert.equal(exported.code, 0, exported.stderr);
  await Deno.writeTextFile(`${dir}/f.env`, exported.stdout);
  assert.equal(
    await sh('. ./f.env; printf %s "$SNOWFLAKE_TRANSFORM_PASSWORD"', dir),
    SECRETS["SNOWFLAKE.TRANSFORM.PASSWORD"],
  );
  assert.equal(await sh('. ./f.env; printf %s "$API_TOKEN"', dir), SECRETS["API.TOKEN"]);
});

Deno.test("the plain vault is the base layer of the first encrypted load and is left untouched", async () => {
  await using source = await customSource({ "API.TOKEN": SECRETS["API.TOKEN"] });
  await using tmp = await tempVault("# hand-written\nLOCAL:\n  PATH_VALUE: keep-me-please\n");
  const { vault } = tmp;
  const before = await readBytes(vault);
  const env = customEnv(source.script, vault, { DATAOPS_VAULT_KEY: KEY });
  const first = await runTool([], env);
  assert.equal(first.code, 0, first.stderr);
  assertNoLeak(first, [SECRETS["API.TOKEN"], "keep-me-please", KEY]);
  assert.deepEqual(await readBytes(vault), before);
  const got = await runTool(["get", "LOCAL.PATH_VALUE"], env);
  assert.equal(got.stdout, "keep-me-please");
  const token = await runTool(["get", "API.TOKEN"], env);
  assert.equal(token.stdout, SECRETS["API.TOKEN"]);

  const second = await runTool([], env);
  assert.equal(second.code, 0, second.stderr);
  assertNoLeak(second, [SECRETS["API.TOKEN"], "keep-me-please", KEY]);
  assert.match(second.stderr, /plain vault .* still exists beside the encrypted/);
});

Deno.test("a wrong key fails clearly (exit 6) and changes nothing", async () => {
  await using fixture = await encryptedLoad();
  const { dir, vault, env, enc } = fixture;
  const vaultBytes = await readBytes(enc);
  const manifestBytes = await readBytes(`${vault}.manifest.json`);
  const wrong = { ...env, DATAOPS_VAULT_KEY: "another-key-0123456789abcdef" };
  const load = await runTool([], wrong);
  assert.equal(load.code, 6);
  assertOneErrorLine(load, /cannot decrypt the vault .*DATAOPS_VAULT_KEY or vault.salt/);
  assertNoLeak(load, [...VALUES, KEY, wrong.DATAOPS_VAULT_KEY]);
  assert.deepEqual(await readBytes(enc), vaultBytes);
  assert.deepEqual(await readBytes(`${vault}.manifest.json`), manifestBytes);

  for (const args of [["get", "API.TOKEN"], ["export", "--format", "json"], ["mask"]]) {
    const read = await runTool(args, wrong);
    assert.equal(read.code, 6, args.join(" "));
    assert.equal(read.stdout, "");
    assertOneErrorLine(read, /cannot decrypt/);
  }
  await assertNoPlaintextOnDisk(dir);
});

Deno.test("tampered or truncated ciphertext is an error, never garbage", async () => {
  await using fixture = await encryptedLoad();
  const { vault, env, enc } = fixture;
  const jwe = (await Deno.readTextFile(enc)).trim();
  const parts = jwe.split(".");
  const flip = (text: string, at: number) =>
    text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
  const tampered = [
    [parts[0], parts[1], parts[2], flip(parts[3], 5), parts[4]].join("."),
    [parts[0], parts[1], flip(parts[2], 3), parts[3], parts[4]].join("."),
    [parts[0], parts[1], parts[2], parts[3], flip(parts[4], 2)].join("."),
  ];
  for (const text of tampered) {
    await Deno.writeTextFile(enc, `${text}\n`);
    const before = await readBytes(enc);
    const got = await runTool(["get", "API.TOKEN"], env);
    assert.equal(got.code, 6);
    assert.equal(got.stdout, "");
    assertOneErrorLine(got, /cannot decrypt the vault/);
    const load = await runTool([], env);
    assert.equal(load.code, 6);
    assertNoLeak(load, [...VALUES, KEY]);
    assert.deepEqual(await readBytes(enc), before);
  }
  await Deno.writeTextFile(enc, jwe.slice(0, 40));
  const truncated = await runTool(["get", "API.TOKEN"], env);
  assert.equal(truncated.code, 6);
  assertOneErrorLine(truncated, /is not a valid JWE/);
  assert.ok(await readBytes(`${vault}.manifest.json`));
});

Deno.test("an encrypted vault without its key or its salt is a clear error", async () => {
  await using fixture = await encryptedLoad();
  const { dir, env } = fixture;
  const { DATAOPS_VAULT_KEY: _key, ...noKey } = env;
  const plain = await runTool(["get", "API.TOKEN"], noKey);
  assert.equal(plain.code, 2);
  assertOneErrorLine(plain, /is encrypted .* DATAOPS_VAULT_KEY is not set/);
  const load = await runTool([], noKey);
  assert.equal(load.code, 2);

  await Deno.rename(`${dir}/vault.salt`, `${dir}/salt.bak`);
  const noSalt = await runTool(["get", "API.TOKEN"], env);
  assert.equal(noSalt.code, 6);
  assertOneErrorLine(noSalt, /salt file .* does not/);
  const loadNoSalt = await runTool([], env);
  assert.equal(loadNoSalt.code, 6);
  assert.equal(await readBytes(`${dir}/vault.salt`), null, "no new salt replaces a lost one");
});

Deno.test("a short key is refused and DATAOPS_VAULT_KEY is redacted from every line", async () => {
  await using source = await customSource(SECRETS);
  await using tmp = await tempVault();
  const { vault } = tmp;
  const short = await runTool([], customEnv(source.script, vault, { DATAOPS_VAULT_KEY: "short" }));
  assert.equal(short.code, 2);
  assertOneErrorLine(short, /DATAOPS_VAULT_KEY has 5 characters/);
  assert.ok(!short.stderr.includes("short\n") && !short.stderr.includes('"short"'));

  const noisy = `${source.dir}/noisy.py`;
  await Deno.writeTextFile(
    noisy,
    "import os, sys\ndef get_secrets():\n    print('key is ' + os.environ.get('DATAOPS_VAULT_KEY', 'unset'))\n    return {'A': 'value-of-a-1234'}\n",
  );
  const run = await runTool(
    ["--verbose"],
    customEnv(noisy, vault, { DATAOPS_VAULT_KEY: KEY }),
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /custom script: key is \*\*\*/);
  assertNoLeak(run, [KEY, "value-of-a-1234"]);
});
