/**
 * CI-native outputs through the real tool: `export --format github-env` read back with the
 * runner's own heredoc rules, `export --format files --output-dir DIR` (one 0600 file per
 * key, nothing else written), and `load` on GitHub Actions registering every fetched value
 * with `::add-mask::` on stdout (off with `SECRETS_MASK=0`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { assertNoLeak } from "./support/assertions.ts";
import { runTool } from "./support/run_tool.ts";
import { tempDir, tempVault } from "./support/temp.ts";
import { customEnv, customSource } from "./support/custom_source.ts";
import { githubMasks } from "../lib/commands/mask.ts";
import { leaves } from "../lib/vault/tree.ts";
import { stringify } from "../lib/vault/yaml.ts";

/** Values a heredoc could get wrong: newlines, CR, trailing newlines, `<<`, a delimiter look-alike. */
const VALUES: Record<string, string> = {
  PEM: "-----BEGIN KEY-----\nMIIB\nAAAA\n-----END KEY-----\n",
  CRLF: "line one\r\nline two\r\n",
  TRAILING: "x\n\n",
  HEREDOC: "A<<EOF\nEOF\n<<",
  LOOKALIKE: "ghadelimiter_\nghadelimiter_00000000-0000-4000-8000-000000000000",
  QUOTES: `it's "quoted" $HOME \`id\``,
  EMPTY: "",
};

function vaultText(): string {
  return stringify({ APP: { ...VALUES, PORT: 5432, ON: true } }, { lineWidth: 0 });
}

/**
 * Parse a `$GITHUB_ENV` file as the runner does on Linux: `NAME=VALUE` lines, or
 * `NAME<<DELIMITER` and every following line up to one equal to DELIMITER, joined by LF.
 */
function parseGithubEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let index = 0;
  const readLine = (): string | null => {
    if (index >= text.length) return null;
    const lf = text.indexOf("\n", index);
    const line = lf < 0 ? text.slice(index) : text.slice(index, lf);
    index = lf < 0 ? text.length : lf + 1;
    return line;
  };
  for (let line = readLine(); line !== null; line = readLine()) {
    if (line === "") continue;
    const heredoc = line.indexOf("<<");
    const equals = line.indexOf("=");
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      out[line.slice(0, equals)] = line.slice(equals + 1);
      continue;
    }
    assert.ok(heredoc > 0, `not a variable line: ${JSON.stringify(line.slice(0, 20))}`);
    const [name, delimiter] = [line.slice(0, heredoc), line.slice(heredoc + 2)];
    const start = index;
    let end = index;
    for (let next = readLine(); next !== delimiter; next = readLine()) {
      assert.notEqual(next, null, `no closing delimiter for ${name}`);
      end = index - 1;
    }
    out[name] = end > start ? text.slice(start, end) : "";
  }
  return out;
}

Deno.test("export --format github-env: $GITHUB_ENV read back by the runner's rules gives every value exactly", async () => {
  await using tmp = await tempVault(vaultText());
  const result = await runTool(["export", "APP", "--format", "github-env", "--prefix", "S_"], {
    SECRETS_VAULT_PATH: tmp.vault,
  });
  assert.equal(result.code, 0, result.stderr);
  // As a workflow step appends it: `... >> "$GITHUB_ENV"` after an earlier line.
  const file = `${tmp.dir}/github_env`;
  await Deno.writeTextFile(file, `EARLIER=1\n${result.stdout}`);
  const parsed = parseGithubEnv(await Deno.readTextFile(file));
  const expected: Record<string, string> = { EARLIER: "1", S_PORT: "5432", S_ON: "true" };
  for (const [name, value] of Object.entries(VALUES)) expected[`S_${name}`] = value;
  assert.deepEqual(parsed, expected);
  const delimiters = [...result.stdout.matchAll(/^S_\w+<<(.+)$/gm)].map((m) => m[1]);
  assert.equal(new Set(delimiters).size, delimiters.length, "one random delimiter per value");
  for (const delimiter of delimiters) {
    assert.match(delimiter, /^ghadelimiter_[0-9a-f-]{36}$/);
    assert.ok(Object.values(VALUES).every((value) => !value.includes(delimiter)));
  }
  assert.equal(result.stderr.trim(), "");
});

Deno.test("export --format github-env: a key that is no variable name, or a NUL, is refused", async () => {
  await using tmp = await tempVault('A:\n  "1x": v\n');
  const snap = await snapshot(tmp.vault);
  await assertCleanFailure(
    await runTool(["export", "A", "--format", "github-env"], { SECRETS_VAULT_PATH: tmp.vault }),
    snap,
    { code: 2, line: /vault key A\.1x gives the variable name 1x, which is not a valid one/ },
  );
  await using nul = await tempVault('A:\n  B: "x\\0y"\n');
  await assertCleanFailure(
    await runTool(["export", "--format", "github-env"], { SECRETS_VAULT_PATH: nul.vault }),
    await snapshot(nul.vault),
    { code: 2, line: /vault key A\.B holds a NUL character/ },
  );
});

Deno.test("export --format files: one 0600 file per key in DIR, exact contents, no temp files, only DIR writable", async () => {
  await using tmp = await tempVault(vaultText());
  await using out = await tempDir();
  const dir = `${out.dir}/secrets`;
  const result = await runTool(
    ["export", "APP", "--format", "files", "--output-dir", dir, "--verbose"],
    { SECRETS_VAULT_PATH: tmp.vault },
  );
  assert.equal(result.code, 0, result.stderr);
  const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
  assert.deepEqual(names, [...Object.keys(VALUES), "ON", "PORT"].sort());
  for (const [name, value] of Object.entries({ ...VALUES, PORT: "5432", ON: "true" })) {
    assert.equal(await Deno.readTextFile(`${dir}/${name}`), value, name);
    assert.equal((await Deno.stat(`${dir}/${name}`)).mode! & 0o777, 0o600, name);
  }
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  assert.match(result.stderr, new RegExp(`write=\\[[^\\]]*${dir}\\]`));
  assert.match(result.stderr, /exported 9 keys to .*, one file each \(mode 0600\)/);
  assertNoLeak(result, Object.values(VALUES).filter((v) => v.length >= 4));
});

Deno.test("export --output-dir: needed by --format files, refused with any other format", async () => {
  await using tmp = await tempVault("A: 1\n");
  const snap = await snapshot(tmp.vault);
  await assertCleanFailure(
    await runTool(["export", "--format", "files"], { SECRETS_VAULT_PATH: tmp.vault }),
    snap,
    { code: 2, line: /export --format files needs --output-dir DIR/ },
  );
  await assertCleanFailure(
    await runTool(["export", "--format", "json", "--output-dir", tmp.dir], {
      SECRETS_VAULT_PATH: tmp.vault,
    }),
    snap,
    { code: 2, line: /--output-dir applies only to export --format files/ },
  );
});

Deno.test("load on GitHub Actions: every fetched value and its forms masked on stdout first; SECRETS_MASK=0 turns it off", async () => {
  const secrets = {
    DB: { PASSWORD: `pw-${crypto.randomUUID()}`, PEM: "-----BEGIN-----\nabcdEFGH\n-----END-----" },
    API: `{"token":"tok-${crypto.randomUUID()}"}`,
  };
  await using source = await customSource(secrets);
  await using tmp = await tempVault();
  const env = customEnv(source.script, tmp.vault, { GITHUB_ACTIONS: "true" });
  const masked = await runTool([], env);
  assert.equal(masked.code, 0, masked.stderr);
  const expected = githubMasks([...leaves(secrets.DB, ["DB"]), ...leaves(secrets.API, ["API"])]);
  assert.deepEqual(
    masked.stdout.split("\n").filter(Boolean).sort(),
    expected.split("\n").filter(Boolean).sort(),
  );
  for (
    const value of [secrets.DB.PASSWORD, "abcdEFGH", secrets.API, JSON.parse(secrets.API).token]
  ) {
    assert.ok(masked.stdout.includes(`::add-mask::${value}\n`), "each value and leaf is masked");
  }
  assertNoLeak({ stdout: "", stderr: masked.stderr }, [secrets.DB.PASSWORD, secrets.API]);

  const unmasked: Record<string, string>[] = [{ GITHUB_ACTIONS: "true", SECRETS_MASK: "0" }, {}];
  for (const extra of unmasked) {
    await using other = await tempVault();
    const quiet = await runTool([], { ...customEnv(source.script, other.vault), ...extra });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, "");
  }
  await using bad = await tempVault("KEEP: 1\n");
  await assertCleanFailure(
    await runTool([], {
      ...customEnv(source.script, bad.vault),
      GITHUB_ACTIONS: "true",
      SECRETS_MASK: "maybe",
    }),
    await snapshot(bad.vault),
    { code: 2, line: /SECRETS_MASK="maybe" is not a boolean/ },
  );
});
