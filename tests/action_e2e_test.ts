/**
 * End-to-end tests of the GitHub Action's script (.github/action/run.sh) on a simulated
 * runner: temporary RUNNER_TEMP, GITHUB_ENV, GITHUB_OUTPUT and GITHUB_PATH, a fake release
 * store serving an archive whose `secrets-orchestrator` runs the tool from this checkout
 * (or $SECRETS_ORCHESTRATOR_BIN under `make test-binary`), and the CUSTOM backend.
 */
import assert from "node:assert/strict";
import { derivedForms } from "../lib/output/redact.ts";
import { escapeCommandData } from "../lib/commands/mask.ts";
import { ROOT, RUN_FLAGS } from "./support/run_tool.ts";
import { releaseFiles, startReleaseServer } from "./fakes/release_server.ts";

const VERSION = "0.1.0";
const TARGET = `${Deno.build.arch}-${
  Deno.build.os === "darwin" ? "apple-darwin" : "unknown-linux-gnu"
}`;

const MULTILINE =
  "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n  indented line\n-----END KEY-----";
const QUOTES = `it's a "quoted" pa55word with \`backticks\``;
const DOLLARS = "$HOME and $(id -u) and ${PATH} and \\n and \\";
const PLAIN = "plain-s3cret-value";
const TRAILING = "ends with a newline\n";
const SECRETS = [MULTILINE, QUOTES, DOLLARS, PLAIN, TRAILING];

const SCRIPT = `
import json
def get_secrets():
    return json.loads(${
  JSON.stringify(JSON.stringify({
    "APP.KEY": MULTILINE,
    "APP.QUOTES": QUOTES,
    "APP.DOLLARS": DOLLARS,
    "DB.PASSWORD": PLAIN,
    "DB.TRAILING": TRAILING,
    "DB.PORT": 5432,
  }))
})
`;

const EXPECTED: Record<string, string> = {
  APP_KEY: MULTILINE,
  APP_QUOTES: QUOTES,
  APP_DOLLARS: DOLLARS,
  DB_PASSWORD: PLAIN,
  DB_TRAILING: TRAILING,
  DB_PORT: "5432",
};

/** The `secrets-orchestrator` of the fake archive: the tool from this checkout. */
function wrapper(): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return [
    "#!/bin/sh",
    'if [ -n "${SECRETS_ORCHESTRATOR_BIN:-}" ]; then exec "$SECRETS_ORCHESTRATOR_BIN" "$@"; fi',
    `exec ${q(Deno.execPath())} run ${RUN_FLAGS.join(" ")} --config ${q(`${ROOT}/deno.json`)} ${
      q(`${ROOT}/main.ts`)
    } "$@"`,
    "",
  ].join("\n");
}

const FILES = await releaseFiles(VERSION, [TARGET], wrapper);

/** Parse a GITHUB_ENV file as the runner does: NAME=value lines and NAME<<DELIMITER blocks. */
function parseGithubEnv(text: string): Record<string, string> {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const out: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) body.push(lines[i]);
      assert.ok(i < lines.length, `no closing delimiter for ${name}`);
      out[name] = body.join("\n");
    } else {
      const at = line.indexOf("=");
      assert.ok(at > 0, `bad GITHUB_ENV line: ${line}`);
      out[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  return out;
}

interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  githubEnv: string;
  githubOutput: string;
  githubPath: string;
  /** What RUNNER_TEMP/secrets-orchestrator holds afterwards. */
  work: string[];
}

async function runAction(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  script = SCRIPT,
): Promise<ActionRun> {
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-action-" });
  const server = startReleaseServer(FILES);
  try {
    await Deno.mkdir(`${dir}/runner`);
    for (const file of ["env", "output", "path"]) await Deno.writeTextFile(`${dir}/${file}`, "");
    await Deno.writeTextFile(`${dir}/get_secrets.py`, script);
    const pass: Record<string, string> = {};
    for (const name of ["PATH", "HOME", "DENO_DIR", "SECRETS_ORCHESTRATOR_BIN"]) {
      const value = Deno.env.get(name);
      if (value !== undefined) pass[name] = value;
    }
    const inputEnv: Record<string, string> = {};
    for (const [name, value] of Object.entries(inputs)) {
      inputEnv[`INPUT_${name.toUpperCase().replaceAll("-", "_")}`] = value;
    }
    const output = await new Deno.Command("sh", {
      args: [`${ROOT}/.github/action/run.sh`],
      cwd: dir,
      env: {
        ...pass,
        NO_COLOR: "1",
        DENO_NO_UPDATE_CHECK: "1",
        GITHUB_ACTION_PATH: ROOT,
        RUNNER_TEMP: `${dir}/runner`,
        GITHUB_ENV: `${dir}/env`,
        GITHUB_OUTPUT: `${dir}/output`,
        GITHUB_PATH: `${dir}/path`,
        SECRETS_ORCHESTRATOR_BASE_URL: server.url,
        SECRETS_CUSTOM_SCRIPT: `${dir}/get_secrets.py`,
        ...inputEnv,
        ...env,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const work: string[] = [];
    try {
      for await (const entry of Deno.readDir(`${dir}/runner/secrets-orchestrator`)) {
        work.push(entry.name);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return {
      code: output.code,
      stdout: decode(output.stdout).replaceAll(dir, "<dir>"),
      stderr: decode(output.stderr).replaceAll(dir, "<dir>"),
      githubEnv: (await Deno.readTextFile(`${dir}/env`)).replaceAll(dir, "<dir>"),
      githubOutput: (await Deno.readTextFile(`${dir}/output`)).replaceAll(dir, "<dir>"),
      githubPath: (await Deno.readTextFile(`${dir}/path`)).replaceAll(dir, "<dir>"),
      work: work.sort(),
    };
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Every value is masked before any other output, and appears nowhere else: stdout starts
 * with the `::add-mask::` lines, and no form of a value occurs in the rest of stdout or in
 * stderr.
 */
function assertMaskedFirst(run: ActionRun, secrets: readonly string[]): void {
  const lines = run.stdout.split("\n").filter((line) => line !== "");
  const masks = lines.filter((line) => line.startsWith("::add-mask::"));
  assert.ok(masks.length > 0, "no ::add-mask:: lines");
  assert.deepEqual(lines.slice(0, masks.length), masks, "output before the ::add-mask:: lines");
  for (const secret of secrets) {
    // Each line of a multi-line value is masked (trimmed), as the runner masks line by line.
    for (const line of secret.split("\n").map((l) => l.trim()).filter((l) => l.length >= 4)) {
      assert.ok(masks.includes(`::add-mask::${escapeCommandData(line)}`), "a value is not masked");
    }
  }
  const rest = `${lines.slice(masks.length).join("\n")}\n${run.stderr}`;
  for (const secret of secrets) {
    for (const form of derivedForms(secret)) {
      if (form.trim().length < 4) continue;
      assert.ok(!rest.includes(form), `a value (form of length ${form.length}) leaked`);
    }
  }
}

Deno.test("action: loads, masks every value first, exports exact values to GITHUB_ENV", async () => {
  const run = await runAction({ version: VERSION, backend: "CUSTOM", "export-env": "true" });
  assert.equal(run.code, 0, run.stderr);
  assertMaskedFirst(run, SECRETS);
  assert.deepEqual(parseGithubEnv(run.githubEnv), {
    SECRETS_VAULT_PATH: "<dir>/runner/secrets-orchestrator/vault.yml",
    ...EXPECTED,
  });
  // Multi-line values use the NAME<<DELIMITER form with a random delimiter.
  assert.match(run.githubEnv, /^APP_KEY<<ghadelimiter_[0-9a-f]{32}$/m);
  assert.equal(
    run.githubOutput,
    "vault-path=<dir>/runner/secrets-orchestrator/vault.yml\n" +
      "bin=<dir>/runner/secrets-orchestrator/bin/secrets-orchestrator\nversion=0.1.0\n",
  );
  assert.equal(run.githubPath, "<dir>/runner/secrets-orchestrator/bin\n");
  assert.match(run.stderr, /exported 6 variables to GITHUB_ENV/);
  // No log or export file is left behind: only the binary and the vault (with the tool's
  // own lock and manifest).
  assert.deepEqual(run.work.filter((name) => !name.startsWith("vault.yml")), ["bin"]);
  assert.ok(run.work.includes("vault.yml"));
});

Deno.test("action: export-path and export-prefix narrow the export; a relative vault-path is made absolute", async () => {
  const run = await runAction({
    backend: "CUSTOM",
    "vault-path": "out/vault.yml",
    "export-env": "true",
    "export-path": "DB",
    "export-prefix": "X_",
  });
  assert.equal(run.code, 0, run.stderr);
  assertMaskedFirst(run, SECRETS);
  assert.deepEqual(parseGithubEnv(run.githubEnv), {
    SECRETS_VAULT_PATH: "<dir>/out/vault.yml",
    X_PASSWORD: PLAIN,
    X_TRAILING: TRAILING,
    X_PORT: "5432",
  });
});

Deno.test("action: without export-env nothing but SECRETS_VAULT_PATH reaches GITHUB_ENV", async () => {
  const run = await runAction({ backend: "CUSTOM", "export-env": "false" });
  assert.equal(run.code, 0, run.stderr);
  assertMaskedFirst(run, SECRETS);
  assert.equal(run.githubEnv, "SECRETS_VAULT_PATH=<dir>/runner/secrets-orchestrator/vault.yml\n");
});

Deno.test("action: a failing backend fails the step with the tool's exit code and exports nothing", async () => {
  const run = await runAction(
    { backend: "CUSTOM", "export-env": "true" },
    {},
    "def get_secrets():\n    raise RuntimeError('backend down')\n",
  );
  assert.notEqual(run.code, 0);
  assert.match(
    run.stdout,
    /^::error::secrets-orchestrator action: loading secrets failed \(exit \d+\)$/m,
  );
  assert.equal(run.githubEnv, "");
  assert.equal(run.githubPath, "");
  assert.deepEqual(run.work, ["bin"]);
});

Deno.test("action: an unknown version or a bad export-env input fails before any load", async () => {
  const unknown = await runAction({ version: "9.9.9", backend: "CUSTOM" });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /version 9\.9\.9 not found/);
  assert.match(
    unknown.stdout,
    /::error::secrets-orchestrator action: could not install secrets-orchestrator 9\.9\.9/,
  );
  assert.equal(unknown.githubEnv, "");
  const bad = await runAction({ backend: "CUSTOM", "export-env": "yes please" });
  assert.equal(bad.code, 2);
  assert.match(bad.stdout, /export-env must be true or false/);
});
