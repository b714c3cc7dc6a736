import assert from "node:assert/strict";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { disposeAll, readBytes, tempVault } from "./support/temp.ts";
import { runTool } from "./support/run_tool.ts";
import { customEnv, customSource, sh } from "./support/custom_source.ts";
import { parseDocument } from "../lib/vault/yaml.ts";

const NASTY = {
  "APP.DB.PASSWORD": `it's "q" $HOME $(id) \`id\` \\ back\\slash ! * ? ~ # ; & | < > {} [] %s %`,
  "APP.DB.MULTI": "line one\n  indented: yes\n'quoted'\n\ttabbed\n",
  "APP.DB.TRAILING": "ends with spaces and newline  \n\n",
  "APP.DB.YAMLISH": "- no: true\n? key\n: value\n---\n...",
  "APP.DB.USER": "app_user",
  "APP.JSON": '{"user":"json-user-1","pass":"json-pass-%0A-2"}',
  "APP.PORT": 5432,
  "APP.FLAG": true,
  "APP.EMPTY": "",
  "APP.UNICODE": "pässwörd-ü-€-😀",
};
const VALUES = Object.values(NASTY).filter((v): v is string => typeof v === "string" && v !== "");

async function loaded() {
  const source = await customSource(NASTY);
  const tmp = await tempVault();
  const { dir, vault } = tmp;
  const env = customEnv(source.script, vault);
  const result = await runTool([], env);
  assert.equal(result.code, 0, result.stderr);
  assertNoLeak(result, VALUES);
  return { dir, vault, env, [Symbol.asyncDispose]: disposeAll(source, tmp) };
}

Deno.test("get prints leaves exactly and namespaces as YAML or JSON; a missing key exits 6", async () => {
  await using fixture = await loaded();
  const { env, vault } = fixture;
  for (const [key, value] of Object.entries(NASTY)) {
    const got = await runTool(["get", key], env);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, String(value), key);
    assert.equal(got.stderr.trim(), "");
  }
  const json = await runTool(["get", "APP.DB", "--format", "json"], env);
  assert.deepEqual(JSON.parse(json.stdout), {
    PASSWORD: NASTY["APP.DB.PASSWORD"],
    MULTI: NASTY["APP.DB.MULTI"],
    TRAILING: NASTY["APP.DB.TRAILING"],
    YAMLISH: NASTY["APP.DB.YAMLISH"],
    USER: "app_user",
  });
  const yaml = await runTool(["get", "APP.DB"], env);
  assert.deepEqual(parseDocument(yaml.stdout).toJS(), JSON.parse(json.stdout));
  const port = await runTool(["get", "APP.PORT", "--format", "json"], env);
  assert.equal(port.stdout, "5432\n");

  const before = await readBytes(vault);
  const missing = await runTool(["get", "APP.DB.NOPE"], env);
  assert.equal(missing.code, 6);
  assert.equal(missing.stdout, "");
  assertOneErrorLine(missing, /vault key APP\.DB\.NOPE is not in the vault/);
  assertNoLeak(missing, VALUES);
  const bad = await runTool(["get", "APP..DB"], env);
  assert.equal(bad.code, 2);
  const none = await runTool(["get"], env);
  assert.equal(none.code, 2);
  assertOneErrorLine(none, /get needs PATH/);
  assert.deepEqual(await readBytes(vault), before);
});

Deno.test("render substitutes every reference form and leaves ${{ }} alone", async () => {
  await using fixture = await loaded();
  const { dir, env } = fixture;
  const template = `${dir}/t.txt`;
  await Deno.writeTextFile(
    template,
    [
      "user={{APP.DB.USER}} pass={{ APP.DB.PASSWORD }}",
      "macro=DATAOPS_VAULT(APP.DB.USER) port=DATAOPS_VAULT( APP.PORT )",
      `role={{ APP.ROLE | default('reader') }} region={{ APP.REGION|default("eu") }}`,
      "gha=${{ secrets.TOKEN }} jinja={{ not a ref }}",
      "multi={{ APP.DB.MULTI }}end",
      "",
    ].join("\n"),
  );
  const out = await runTool(["render", template], env);
  assert.equal(out.code, 0, out.stderr);
  assertNoLeak({ ...out, stdout: "" }, VALUES);
  assert.equal(
    out.stdout,
    [
      `user=app_user pass=${NASTY["APP.DB.PASSWORD"]}`,
      "macro=app_user port=5432",
      "role=reader region=eu",
      "gha=${{ secrets.TOKEN }} jinja={{ not a ref }}",
      `multi=${NASTY["APP.DB.MULTI"]}end`,
      "",
    ].join("\n"),
  );
});

Deno.test("render: an undefined key names the path and line, and nothing is written", async () => {
  await using fixture = await loaded();
  const { dir, env } = fixture;
  const template = `${dir}/t.txt`;
  await Deno.writeTextFile(
    template,
    "ok={{ APP.DB.USER }}\n\nsecret={{ APP.DB.PASSWORD }}\nmissing={{ APP.DB.HOST }}\nns=DATAOPS_VAULT(APP.DB)\n",
  );
  const target = `${dir}/out.txt`;
  const result = await runTool(["render", template, "-o", target], env);
  assert.equal(result.code, 6);
  assert.equal(result.stdout, "");
  assertOneErrorLine(
    result,
    /template .*t\.txt line 4: vault key APP\.DB\.HOST is not in the vault and has no default; also APP\.DB \(line 5\)/,
  );
  assertNoLeak(result, VALUES);
  assert.equal(await readBytes(target), null);
  const entries = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.ok(!entries.some((name) => name.endsWith(".tmp")), entries.join(","));

  const stdout = await runTool(["render", template], env);
  assert.equal(stdout.code, 6);
  assert.equal(stdout.stdout, "");
  const absent = await runTool(["render", `${dir}/nope.tpl`], env);
  assert.equal(absent.code, 2);
  assertOneErrorLine(absent, /cannot read the template .*nope\.tpl: it does not exist/);
});

Deno.test("export dotenv and env files sourced by sh give back every value exactly", async () => {
  await using fixture = await loaded();
  const { dir, env } = fixture;
  for (const format of ["dotenv", "env"]) {
    const result = await runTool(["export", "--format", format], env);
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak({ ...result, stdout: "" }, VALUES);
    await Deno.writeTextFile(`${dir}/f`, result.stdout);
    for (const [key, value] of Object.entries(NASTY)) {
      const name = key.replaceAll(".", "_");
      assert.equal(await sh(`. ./f; printf %s "$${name}"`, dir), String(value), `${format} ${key}`);
    }
    if (format === "env") {
      assert.equal(
        await sh(`. ./f; sh -c 'printf %s "$APP_DB_PASSWORD"'`, dir),
        NASTY["APP.DB.PASSWORD"],
      );
    }
  }
});

Deno.test("export: subtree names, --prefix, json and yaml documents, bad names and collisions", async () => {
  await using fixture = await loaded();
  const { env } = fixture;
  const sub = await runTool(["export", "--format", "json", "--prefix", "DB_", "APP.DB"], env);
  assert.equal(sub.code, 0, sub.stderr);
  assert.deepEqual(JSON.parse(sub.stdout), {
    DB_MULTI: NASTY["APP.DB.MULTI"],
    DB_PASSWORD: NASTY["APP.DB.PASSWORD"],
    DB_TRAILING: NASTY["APP.DB.TRAILING"],
    DB_USER: "app_user",
    DB_YAMLISH: NASTY["APP.DB.YAMLISH"],
  });
  const leaf = await runTool(["export", "--format", "dotenv", "APP.PORT"], env);
  assert.equal(leaf.stdout, "PORT='5432'\n");
  const yaml = await runTool(["export", "--format", "yaml"], env);
  assert.equal(yaml.code, 0, yaml.stderr);
  const all = await runTool(["export", "--format", "json"], env);
  const parsed = JSON.parse(all.stdout);
  assert.deepEqual(parseDocument(yaml.stdout).toJS(), parsed);
  assert.equal(parsed.APP_PORT, 5432);
  assert.equal(parsed.APP_FLAG, true);
  assert.equal(parsed.APP_DB_TRAILING, NASTY["APP.DB.TRAILING"]);

  const noFormat = await runTool(["export"], env);
  assert.equal(noFormat.code, 2);
  assertOneErrorLine(noFormat, /export needs --format/);
  const wrongFormat = await runTool(["export", "--format", "toml"], env);
  assert.equal(wrongFormat.code, 2);
  assertOneErrorLine(wrongFormat, /use one of dotenv, env, json, yaml/);
});

Deno.test("export refuses names a shell cannot hold and keys that collide", async () => {
  await using source = await customSource({
    "9LIVES.KEY": "nine-lives-1",
    "A.B_C": "abc-value-1",
    "A_B.C": "abc-value-2",
  });
  await using tmp = await tempVault();
  const { vault } = tmp;
  const env = customEnv(source.script, vault);
  const load = await runTool([], env);
  assert.equal(load.code, 0, load.stderr);
  assertNoLeak(load, ["nine-lives-1", "abc-value-1", "abc-value-2"]);
  const digit = await runTool(["export", "--format", "env", "9LIVES"], env);
  assert.equal(digit.code, 0, "a subtree drops the leading segment");
  assert.equal(digit.stdout, "export KEY='nine-lives-1'\n");
  const bad = await runTool(["export", "--format", "env"], env);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
  assertOneErrorLine(bad, /vault key 9LIVES\.KEY gives the variable name 9LIVES_KEY/);
  const twins = await runTool(["export", "--format", "json", "--prefix", "S_"], env);
  assert.equal(twins.code, 5);
  assertOneErrorLine(twins, /vault keys A\.B_C and A_B\.C both export as S_A_B_C/);
  assertNoLeak(twins, ["nine-lives-1", "abc-value-1", "abc-value-2"]);
});

Deno.test("mask prints ::add-mask:: per line, per JSON leaf, escaped; GitLab gets an explanation", async () => {
  await using fixture = await loaded();
  const { env } = fixture;
  const result = await runTool(["mask"], env);
  assert.equal(result.code, 0, result.stderr);
  assertNoLeak({ ...result, stdout: "" }, VALUES);
  const lines = result.stdout.split("\n").filter((line) => line !== "");
  assert.ok(lines.every((line) => line.startsWith("::add-mask::")), result.stdout);
  const masks = new Set(lines.map((line) => line.slice("::add-mask::".length)));
  const unescape = (text: string) =>
    text.replaceAll("%0A", "\n").replaceAll("%0D", "\r").replaceAll("%25", "%");
  const unescaped = new Set([...masks].map(unescape));
  for (const line of ["line one", "indented: yes", "'quoted'", "tabbed"]) {
    assert.ok(unescaped.has(line), line);
  }
  assert.ok(unescaped.has("json-user-1") && unescaped.has("json-pass-%0A-2"));
  assert.ok(masks.has("json-pass-%250A-2"), "% is escaped as %25");
  assert.ok(unescaped.has(NASTY["APP.DB.PASSWORD"]));
  assert.ok(unescaped.has("app_user"));
  assert.ok(unescaped.has("5432"), "numbers are masked");
  assert.ok(!unescaped.has("true"), "booleans are not masked");
  assert.ok([...unescaped].every((mask) => !mask.includes("\n")));

  const sub = await runTool(["mask", "APP.DB.USER"], env);
  assert.equal(sub.stdout.split("\n")[0], "::add-mask::app_user");

  const gitlab = await runTool(["mask", "--ci", "gitlab"], env);
  assert.equal(gitlab.code, 0);
  assert.equal(gitlab.stdout, "");
  assert.match(gitlab.stderr, /GitLab CI has no command to mask values at run time/);
  assertNoLeak(gitlab, VALUES);
});

Deno.test("command-line mistakes are configuration errors", async () => {
  await using fixture = await loaded();
  const { env } = fixture;
  const cases: [string[], RegExp][] = [
    [["nope"], /unknown command "nope"; the commands are: load, get, render, export, mask/],
    [["get", "A", "B"], /unexpected argument "B"/],
    [["load", "--format", "json"], /--format does not apply to load/],
    [["get", "APP.PORT", "--dry-run"], /--dry-run does not apply to get/],
    [["mask", "--ci", "jenkins"], /use one of github, gitlab/],
    [["render"], /render needs FILE/],
  ];
  for (const [args, pattern] of cases) {
    const result = await runTool(args, env);
    assert.equal(result.code, 2, args.join(" "));
    assertOneErrorLine(result, pattern);
    assertNoLeak(result, VALUES);
  }
});
