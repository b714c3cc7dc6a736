/**
 * `run -- CMD` end to end, through the real tool with the production permission set: the
 * command sees the exact values, its output is masked in every form and however it is
 * written, stdin, exit codes and signals pass through, `--from-vault` makes no network
 * call, every other command cannot start a program, and 100 MB of output streams in
 * bounded memory.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertNoLeak } from "./support/assertions.ts";
import { customEnv, customSource } from "./support/custom_source.ts";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { ROOT, RSS_METHOD, runTool, spawnTool } from "./support/run_tool.ts";
import { readBytes, tempDir, tempVault } from "./support/temp.ts";
import { startFake } from "./fakes/server.ts";

/** Values a shell or a careless script would mangle. */
const VALUES: Record<string, string> = {
  "APP.DB.PASSWORD": `pa$$ 'wo"rd' $(touch /tmp/pwned) \`id\` \\n; end`,
  "APP.DB.CERT": "-----BEGIN KEY-----\nline-two-ÄÖü\nlast line of it\n-----END KEY-----",
  "APP.API.TOKEN": "tök€n-🔑-0123456789",
  "APP.PLAIN": "plain-value-abcdef",
};
/** The variables `run APP` makes of them. */
const NAMES: Record<string, string> = {
  DB_PASSWORD: VALUES["APP.DB.PASSWORD"],
  DB_CERT: VALUES["APP.DB.CERT"],
  API_TOKEN: VALUES["APP.API.TOKEN"],
  PLAIN: VALUES["APP.PLAIN"],
};
const ALL = Object.values(VALUES);

/** A Python program in `dir`; returns the command line that runs it. */
async function python(dir: string, name: string, lines: string[]): Promise<string[]> {
  const path = `${dir}/${name}.py`;
  await Deno.writeTextFile(path, [...lines, ""].join("\n"));
  return ["python3", path];
}

/** A command writing the named variables (null when unset) to `out` as JSON. */
function dumpEnv(dir: string, out: string): Promise<string[]> {
  return python(dir, "dump_env", [
    "import json, os, sys",
    `with open(${JSON.stringify(out)}, "w", encoding="utf-8") as f:`,
    "    json.dump({n: os.environ.get(n) for n in sys.argv[1:]}, f)",
  ]);
}

/** A plain vault holding VALUES. */
function vaultText(): string {
  const quote = (value: string) => JSON.stringify(value);
  return [
    "APP:",
    "  DB:",
    `    PASSWORD: ${quote(VALUES["APP.DB.PASSWORD"])}`,
    `    CERT: ${quote(VALUES["APP.DB.CERT"])}`,
    "  API:",
    `    TOKEN: ${quote(VALUES["APP.API.TOKEN"])}`,
    `  PLAIN: ${quote(VALUES["APP.PLAIN"])}`,
    "",
  ].join("\n");
}

Deno.test("run: the command gets every value exactly and the job's environment; nothing is written", async () => {
  await using source = await customSource(VALUES);
  await using tmp = await tempVault();
  await using work = await tempDir();
  const out = `${work.dir}/env.json`;
  const command = await dumpEnv(work.dir, out);
  const result = await runTool(
    ["run", "APP", "--", ...command, ...Object.keys(NAMES), "JOB_VAR", "APP_PLAIN"],
    customEnv(source.script, tmp.vault, { JOB_VAR: "from the job" }),
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(out)), {
    ...NAMES,
    JOB_VAR: "from the job",
    APP_PLAIN: null,
  });
  assert.deepEqual([...Deno.readDirSync(tmp.dir)], [], "no vault, manifest or lock written");
  assert.match(result.stderr, /running python3 with 4 secret variables/);
  assertNoLeak(result, ALL);
});

Deno.test("run: without PATH every leaf, with --prefix; --pristine gives only PATH, HOME and the secrets", async () => {
  await using tmp = await tempVault(vaultText());
  await using work = await tempDir();
  const out = `${work.dir}/env.json`;
  const command = await dumpEnv(work.dir, out);
  const names = ["S_APP_PLAIN", "S_APP_DB_PASSWORD", "JOB_VAR", "PATH", "HOME"];
  const env = { SECRETS_VAULT_PATH: tmp.vault, JOB_VAR: "x" };
  const full = await runTool(
    ["run", "--from-vault", "--prefix", "S_", "--", ...command, ...names],
    env,
  );
  assert.equal(full.code, 0, full.stderr);
  const seen = JSON.parse(await Deno.readTextFile(out));
  assert.equal(seen.S_APP_PLAIN, VALUES["APP.PLAIN"]);
  assert.equal(seen.S_APP_DB_PASSWORD, VALUES["APP.DB.PASSWORD"]);
  assert.equal(seen.JOB_VAR, "x");

  const pristine = await runTool(["run", "--from-vault", "--pristine", "APP.DB", "--", "env"], env);
  assert.equal(pristine.code, 0, pristine.stderr);
  const given = pristine.stdout.split("\n").filter((line) => /^[A-Z_]+=/.test(line)).map((line) =>
    line.split("=")[0]
  );
  assert.deepEqual(given.sort(), ["CERT", "HOME", "PASSWORD", "PATH"]);
  assert.ok(pristine.stdout.includes(`PATH=${Deno.env.get("PATH")}\n`), pristine.stdout);
  assertNoLeak(full, ALL);
  assertNoLeak(pristine, ALL);
});

Deno.test("run: a variable the command would have is overridden, and a line names it", async () => {
  await using tmp = await tempVault('HOME: "/secret-home-dir"\nJOB_VAR: "secret-job-value"\n');
  const result = await runTool(
    [
      "run",
      "--from-vault",
      "--",
      "sh",
      "-c",
      'test "$HOME" = /secret-home-dir && test "$JOB_VAR" = secret-job-value',
    ],
    { SECRETS_VAULT_PATH: tmp.vault, JOB_VAR: "job's own" },
  );
  assert.equal(result.code, 0, result.stderr);
  // HOME is documented, so the tool sees it is set; JOB_VAR is not, so it cannot say.
  assert.match(
    result.stderr,
    /warning: run: HOME already set; the command gets the secret instead\n/,
  );
  assert.doesNotMatch(result.stderr, /JOB_VAR/);
  assertNoLeak(result, ["/secret-home-dir", "secret-job-value"]);
});

Deno.test("run: the command's output is masked whole, split across writes, base64, URL-encoded and in JSON", async () => {
  await using source = await customSource(VALUES);
  await using tmp = await tempVault();
  await using work = await tempDir();
  const command = await python(work.dir, "leaky", [
    "import base64, json, os, sys, time, urllib.parse",
    "for name in sys.argv[1:]:",
    "    v = os.environ[name]",
    "    print(f'whole {v}', flush=True)",
    "    sys.stdout.write(f'split {v[:5]}'); sys.stdout.flush()",
    "    time.sleep(0.3)",
    "    sys.stdout.write(f'{v[5:]}\\n'); sys.stdout.flush()",
    "    print('b64', base64.b64encode(v.encode()).decode(), flush=True)",
    "    print('url', urllib.parse.quote(v, safe=''), flush=True)",
    "    print('form', urllib.parse.quote_plus(v), flush=True)",
    "    print('json', json.dumps({'password': v}), flush=True)",
    "    print('json-utf8', json.dumps({'password': v}, ensure_ascii=False), flush=True)",
    "    print(f'err {v}', file=sys.stderr, flush=True)",
  ]);
  const result = await runTool(
    ["run", "APP", "--", ...command, ...Object.keys(NAMES)],
    customEnv(source.script, tmp.vault),
  );
  assert.equal(result.code, 0, result.stderr);
  const each = [
    "whole ***",
    "split ***",
    "b64 ***",
    "url ***",
    "form ***",
    'json {"password": "***"}',
    'json-utf8 {"password": "***"}',
    "",
  ].join("\n");
  assert.equal(result.stdout, each.repeat(Object.keys(NAMES).length));
  const errors = result.stderr.split("\n").filter((line) => line.startsWith("err "));
  assert.deepEqual(errors, ["err ***", "err ***", "err ***", "err ***"]);
  assertNoLeak(result, ALL);
});

Deno.test("run: --no-mask passes the output as it is, with a warning", async () => {
  await using tmp = await tempVault(vaultText());
  const result = await runTool(
    ["run", "--from-vault", "--no-mask", "APP", "--", "sh", "-c", 'printf %s "$PLAIN"'],
    { SECRETS_VAULT_PATH: tmp.vault },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, VALUES["APP.PLAIN"]);
  assert.match(result.stderr, /warning: --no-mask: the command's output is not masked/);
});

Deno.test("run: stdin reaches the command and its exit code is the tool's", async () => {
  await using tmp = await tempVault(vaultText());
  const result = await runTool(
    ["run", "--from-vault", "APP", "--", "sh", "-c", 'read line; echo "got: $line"; exit 7'],
    { SECRETS_VAULT_PATH: tmp.vault },
    { stdin: "hello from stdin\n" },
  );
  assert.equal(result.code, 7, result.stderr);
  assert.equal(result.stdout, "got: hello from stdin\n");
  // Flags after -- are the command's, not the tool's.
  const own = await runTool(["run", "--from-vault", "--", "sh", "-c", "echo $0", "--help"], {
    SECRETS_VAULT_PATH: tmp.vault,
  });
  assert.equal(own.code, 0, own.stderr);
  assert.equal(own.stdout, "--help\n");
  for (const flag of ["--version", "-V"]) {
    const version = await runTool(["run", "--from-vault", "--", "sh", "-c", "echo $0", flag], {
      SECRETS_VAULT_PATH: tmp.vault,
    });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout, `${flag}\n`);
  }
});

/** Start `run` with a command that traps SIGTERM and SIGINT, send `signal` once it is ready. */
async function signalled(vault: string, dir: string, signal: Deno.Signal) {
  const command = await python(dir, `trap_${signal}`, [
    "import signal, sys, time",
    "def on(sig, frame):",
    "    print(f'got {signal.Signals(sig).name}', flush=True)",
    "    sys.exit(40 + sig)",
    "signal.signal(signal.SIGTERM, on)",
    "signal.signal(signal.SIGINT, on)",
    "print('ready', flush=True)",
    "while True:",
    "    time.sleep(0.05)",
  ]);
  const child = spawnTool(["run", "--from-vault", "--", ...command], {
    SECRETS_VAULT_PATH: vault,
  });
  const reader = child.stdout.getReader();
  let stdout = "";
  const decoder = new TextDecoder();
  while (!stdout.includes("ready\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    stdout += decoder.decode(value, { stream: true });
  }
  child.kill(signal);
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    stdout += decoder.decode(next.value, { stream: true });
  }
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  return { code: status.code, stdout, stderr };
}

Deno.test("run: SIGTERM, SIGINT and SIGHUP reach the command; the tool exits as it does", async () => {
  await using tmp = await tempVault(vaultText());
  const [term, int, hup] = await Promise.all([
    signalled(tmp.vault, tmp.dir, "SIGTERM"),
    signalled(tmp.vault, tmp.dir, "SIGINT"),
    signalled(tmp.vault, tmp.dir, "SIGHUP"),
  ]);
  assert.deepEqual([term.code, term.stdout], [40 + 15, "ready\ngot SIGTERM\n"], term.stderr);
  assert.deepEqual([int.code, int.stdout], [40 + 2, "ready\ngot SIGINT\n"], int.stderr);
  // Not handled: SIGHUP kills the command, and the tool exits with 128 + 1.
  assert.deepEqual([hup.code, hup.stdout], [129, "ready\n"], hup.stderr);
  const killed = await runTool(["run", "--from-vault", "--", "sh", "-c", "kill -KILL $$"], {
    SECRETS_VAULT_PATH: tmp.vault,
  });
  assert.equal(killed.code, 128 + 9);
});

Deno.test("run --from-vault: an encrypted vault, no network call, and --verbose shows the network revoked", async () => {
  const KEY = "run-test-vault-key-0123456789";
  await using source = await customSource(VALUES);
  await using tmp = await tempVault();
  await using work = await tempDir();
  const load = await runTool([], customEnv(source.script, tmp.vault, { DATAOPS_VAULT_KEY: KEY }));
  assert.equal(load.code, 0, load.stderr);
  assert.equal(await readBytes(tmp.vault), null, "the vault is stored encrypted only");
  let requests = 0;
  const fake = startFake(() => {
    requests++;
    return new Response("{}");
  });
  try {
    const out = `${work.dir}/env.json`;
    const command = await dumpEnv(work.dir, out);
    const result = await runTool([
      "run",
      "--from-vault",
      "--verbose",
      "APP",
      "--",
      ...command,
      ...Object.keys(NAMES),
    ], {
      SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
      AWS_ENDPOINT_URL: fake.url,
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "not-used-secret-key",
      SECRETS_VAULT_PATH: tmp.vault,
      DATAOPS_VAULT_KEY: KEY,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(out)), NAMES);
    assert.equal(requests, 0);
    assert.match(result.stderr, /network: revoked \(run --from-vault\)/);
    assert.match(
      result.stderr,
      /run: before the command starts: read revoked, write revoked, net revoked, env revoked\n/,
    );
    assert.doesNotMatch(result.stderr, /backend sandbox|fetching from/);
    assertNoLeak(result, [...ALL, KEY]);
  } finally {
    await fake.close();
  }
});

Deno.test("run: the backend's fetch runs in its sandbox as for load (AWS Secrets Manager)", async () => {
  // The CUSTOM runs above fetch in their sandbox too; this one shows the network path.
  const { secretsManagerFake } = await import("./fakes/aws_secrets_manager.ts");
  const { testKeys, vaultWithKeys, SECRET_KEY } = await import("./support/aws.ts");
  const sm = secretsManagerFake(
    [{ name: "ci/db", string: '{"PASSWORD":"sm-fetched-pw-1234"}' }],
    testKeys(),
  );
  const fake = startFake(sm.handler);
  try {
    await using tmp = await tempVault(vaultWithKeys());
    const before = await snapshot(tmp.vault);
    const result = await runTool([
      "run",
      "--verbose",
      "--",
      "sh",
      "-c",
      'test "$ci_db_PASSWORD" = sm-fetched-pw-1234 && echo "$ci_db_PASSWORD"',
    ], {
      SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
      SECRETS_VAULT_PATH: tmp.vault,
      SECRETS_EXPAND_JSON: "true",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "***\n");
    assert.match(result.stderr, new RegExp(`backend sandbox: net=\\[${new URL(fake.url).host}\\]`));
    assert.deepEqual(await readBytes(tmp.vault), before.before, "the vault is not written");
    assertNoLeak(result, ["sm-fetched-pw-1234", SECRET_KEY]);
  } finally {
    await fake.close();
  }
});

Deno.test("run: name collisions, invalid names and a command that cannot start fail cleanly", async () => {
  const cases = [
    {
      vault: 'A:\n  B_C: "value-one-1234"\n  B:\n    C: "value-two-1234"\n',
      args: ["run", "--from-vault", "A", "--", "true"],
      code: 5,
      line:
        /vault keys A\.B\.C and A\.B_C both export as B_C|vault keys A\.B_C and A\.B\.C both export as B_C/,
    },
    {
      vault: 'X:\n  "1BAD": "value-three-1234"\n',
      args: ["run", "--from-vault", "X", "--", "true"],
      code: 2,
      line: /vault key X\.1BAD gives the variable name 1BAD, which is not a valid one/,
    },
    {
      vault: 'A: "value-four-1234"\n',
      args: ["run", "--from-vault", "--", "no-such-program-xyz", "arg"],
      code: 2,
      line: /cannot start the command "no-such-program-xyz": no such program/,
    },
    {
      vault: 'A: "value-five-1234"\n',
      args: ["run", "--from-vault", "--", `${ROOT}/deno.json`],
      code: 2,
      line: /cannot start the command ".*deno\.json": it is not executable/,
    },
    {
      vault: 'A: "value-six-1234"\n',
      args: ["run", "--from-vault"],
      code: 2,
      line: /run needs a command after --/,
    },
    {
      vault: 'A: "value-seven-1234"\n',
      args: ["get", "A", "--", "sh"],
      code: 2,
      line: /get takes no command after --/,
    },
  ];
  for (const row of cases) {
    await using tmp = await tempVault(row.vault);
    const snap = await snapshot(tmp.vault);
    const result = await runTool(row.args, { SECRETS_VAULT_PATH: tmp.vault });
    const secrets = [...row.vault.matchAll(/"(value-[a-z]+-1234)"/g)].map((m) => m[1]);
    await assertCleanFailure(result, snap, { code: row.code, line: row.line, secrets });
  }
});

Deno.test("load, get, render, export and mask cannot start a program; run can, once", async () => {
  await using source = await customSource({ "A.B": "value-probe-1234" });
  await using tmp = await tempVault('A:\n  B: "value-probe-1234"\n');
  await Deno.writeTextFile(`${tmp.dir}/t.txt`, "{{ A.B }}\n");
  const lines = [
    ["get", "A.B"],
    ["render", `${tmp.dir}/t.txt`],
    ["export", "--format", "env"],
    ["mask"],
    ["load", "--dry-run"],
  ];
  const env = { SECRETS_VAULT_PATH: tmp.vault, SECRETS_MANAGER: "NONE" };
  // The revoke path of lib/cli/main.ts, then an attempt to start sh, under deno run -P.
  const probe = async (args: string[], extra: Record<string, string> = {}) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-P", "--no-prompt", "tests/fixtures/probe_spawn.ts", ...args],
      cwd: ROOT,
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "", ...env, ...extra },
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(output.stdout).trim();
  };
  for (const args of lines) {
    assert.equal(await probe(args), `${args[0]} at-start sh NotCapable`, args.join(" "));
  }
  assert.equal(
    await probe([], { SECRETS_MANAGER: "CUSTOM", SECRETS_CUSTOM_SCRIPT: source.script }),
    "load after-backend-start sh ok",
    "a CUSTOM load keeps it until its Worker has python3",
  );
  assert.equal(await probe(["run", "--", "true"]), "run after-child-start sh ok");

  // The real tool reports the same with --verbose.
  for (const args of lines) {
    const result = await runTool([...args, "--verbose"], env);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, /starting programs: revoked \(before any input is read\)/);
  }
  const custom = await runTool(["--verbose"], customEnv(source.script, tmp.vault));
  assert.equal(custom.code, 0, custom.stderr);
  assert.match(
    custom.stderr,
    /starting programs: allowed \(kept until the backend Worker[^\n]*\n[^]*starting programs: revoked \(kept until the backend Worker/,
  );
});

Deno.test("run: 100 MB of output streams through the mask in bounded memory", async () => {
  await using tmp = await tempVault(vaultText());
  const total = 100 * 1024 * 1024;
  const line = `${"x".repeat(90)} $PLAIN ok\n`;
  const big = await runTool(
    ["run", "--from-vault", "APP", "--", "sh", "-c", `yes "${line.trimEnd()}" | head -c ${total}`],
    { SECRETS_VAULT_PATH: tmp.vault },
    { stdout: "null", measure: true },
  );
  assert.equal(big.code, 0, big.stderr);
  const small = await runTool(
    ["run", "--from-vault", "APP", "--", "sh", "-c", "echo small"],
    { SECRETS_VAULT_PATH: tmp.vault },
    { stdout: "null", measure: true },
  );
  assert.equal(small.code, 0, small.stderr);
  const extra = big.rssMb - small.rssMb;
  console.log(
    `run: 100 MB through the mask in ${(big.wallMs / 1000).toFixed(1)} s (${
      (100 / (big.wallMs / 1000)).toFixed(1)
    } MB/s end to end); peak RSS ${big.rssMb.toFixed(0)} MB vs ${
      small.rssMb.toFixed(0)
    } MB for a small output (+${extra.toFixed(0)} MB; ${RSS_METHOD})`,
  );
  assert.ok(extra < 40, `peak RSS grew by ${extra.toFixed(0)} MB for 100 MB of output`);
});

Deno.test("run: a value repeated through a long output is masked at every occurrence", async () => {
  await using tmp = await tempVault(vaultText());
  // 100,000 copies back to back: the pipe cuts them at arbitrary places.
  const result = await runTool(
    [
      "run",
      "--from-vault",
      "APP",
      "--",
      "sh",
      "-c",
      'yes "$PLAIN-" | head -n 100000 | tr -d "\\n"',
    ],
    { SECRETS_VAULT_PATH: tmp.vault },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "***-".repeat(100_000));
  assertNoLeak(result, ALL);
});

Deno.test("run: a failed fetch or a conflict among the fetched keys never starts the command", async () => {
  await using work = await tempDir();
  const marker = `${work.dir}/started`;
  const failing = `${work.dir}/failing.py`;
  await Deno.writeTextFile(failing, "def get_secrets():\n    raise RuntimeError('backend down')\n");
  await using source = await customSource({
    "A": "value-conflict-1234",
    "A.B": "value-other-1234",
  });
  const rows = [
    { script: failing, code: 2, line: /get_secrets\(\)|custom script/i },
    { script: source.script, code: 5, line: /"A" .*both a value and the namespace of "A\.B"/ },
  ];
  for (const row of rows) {
    await using tmp = await tempVault();
    const snap = await snapshot(tmp.vault);
    const result = await runTool(
      ["run", "--", "sh", "-c", `touch ${marker}`],
      customEnv(row.script, tmp.vault),
    );
    await assertCleanFailure(result, snap, {
      code: row.code,
      line: row.line,
      secrets: ["value-conflict-1234", "value-other-1234"],
    });
    assert.equal(await readBytes(marker), null, "the command was not started");
  }
});
