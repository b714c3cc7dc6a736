/**
 * A failing custom script cannot leak through its exception message: at normal verbosity
 * only the exception's type, file and line are printed; with `--verbose` its message and
 * output pass the redactor, which knows every value already in the vault. And the runner
 * cannot be hijacked by a `json.py` or `traceback.py` in the working folder: Python runs in
 * isolated mode (`-I`) with only the script's own folder on `sys.path`, and the script still
 * sees the job's environment.
 */

import assert from "node:assert/strict";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { assertNoLeak } from "./support/assertions.ts";
import { customEnv } from "./support/custom_source.ts";
import { runTool } from "./support/run_tool.ts";
import { tempDir, tempVault } from "./support/temp.ts";
import { at, readVaultDoc } from "./support/vault.ts";

const OLD_PASSWORD = "old-rotated-Pa55word-7781";
const VAULT = `SNOWFLAKE:\n  PASSWORD: ${OLD_PASSWORD}\n`;

/** A script that reads its store's password (the vault's current one) and fails with it. */
const RAISES = [
  "def get_secrets():",
  `    token = "${OLD_PASSWORD}"`,
  "    print('connecting with token=' + token)",
  "    raise RuntimeError('login failed for svc-ci token=' + token)",
  "",
].join("\n");

/** A script whose conversion error quotes the value: ValueError: invalid literal ... */
const INT_OF_PASSWORD = [
  "def get_secrets():",
  `    pw = "${OLD_PASSWORD}"`,
  "    return {'PORT': int(pw)}",
  "",
].join("\n");

Deno.test("custom script exception: normal verbosity prints type, file and line, never the message", async () => {
  await using source = await tempDir();
  await using tmp = await tempVault(VAULT);
  const snap = await snapshot(tmp.vault);
  for (
    const [body, line] of [
      [RAISES, /RuntimeError raised at get_secrets\.py line 4; run with --verbose/],
      [INT_OF_PASSWORD, /ValueError raised at get_secrets\.py line 3; run with --verbose/],
    ] as const
  ) {
    const script = `${source.dir}/get_secrets.py`;
    await Deno.writeTextFile(script, body);
    const result = await runTool([], customEnv(script, tmp.vault));
    await assertCleanFailure(result, snap, { code: 2, line, secrets: [OLD_PASSWORD] });
    assert.ok(!/login failed|token=|invalid literal/.test(result.stderr), result.stderr);
  }
});

Deno.test("custom script exception: --verbose shows the message and output, redacted with the vault's values", async () => {
  await using source = await tempDir();
  await using tmp = await tempVault(VAULT);
  const snap = await snapshot(tmp.vault);
  const script = `${source.dir}/get_secrets.py`;
  await Deno.writeTextFile(script, RAISES);
  const result = await runTool(["--verbose"], customEnv(script, tmp.vault));
  await assertCleanFailure(result, snap, {
    code: 2,
    line: /RuntimeError raised at get_secrets\.py line 4/,
    secrets: [OLD_PASSWORD],
  });
  assert.match(
    result.stderr,
    /custom script RuntimeError message: login failed for svc-ci token=\*\*\*/,
  );
  assert.match(result.stderr, /custom script: connecting with token=\*\*\*/);
});

Deno.test("custom script runner: json.py and traceback.py in the working folder do not run", async () => {
  await using project = await tempDir();
  await using source = await tempDir();
  await using tmp = await tempVault();
  for (const name of ["json", "traceback", "importlib", "math"]) {
    await Deno.writeTextFile(
      `${project.dir}/${name}.py`,
      "import sys\nsys.stderr.write('SHADOWED\\n')\nraise SystemExit(9)\n",
    );
  }
  // The script's own folder is on sys.path, as with `python3 get_secrets.py`.
  await Deno.writeTextFile(`${source.dir}/helper.py`, "VALUE = 'from-helper-module-1234'\n");
  const script = `${source.dir}/get_secrets.py`;
  await Deno.writeTextFile(
    script,
    [
      "import os, sys, helper",
      "def get_secrets():",
      "    return {",
      "        'HELPER': helper.VALUE,",
      "        'JOB_VAR': os.environ.get('CI_PROJECT_DIR', 'unset'),",
      "        'PYTHONPATH_KEPT': os.environ.get('PYTHONPATH', 'unset'),",
      "        'CWD_ON_PATH': str(any(p in ('', os.getcwd()) for p in sys.path)),",
      "        'PYTHONPATH_ON_PATH': str(os.environ.get('PYTHONPATH', '?') in sys.path),",
      "    }",
      "",
    ].join("\n"),
  );
  const result = await runTool(
    ["--verbose"],
    customEnv(script, tmp.vault, { CI_PROJECT_DIR: project.dir, PYTHONPATH: project.dir }),
    { cwd: project.dir },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stderr.includes("SHADOWED"), result.stderr);
  const doc = await readVaultDoc(tmp.vault);
  assert.equal(at(doc, "HELPER"), "from-helper-module-1234");
  assert.equal(at(doc, "JOB_VAR"), project.dir, "the job's environment reaches the script");
  assert.equal(at(doc, "PYTHONPATH_KEPT"), project.dir, "PYTHON* variables stay in os.environ");
  assert.equal(at(doc, "CWD_ON_PATH"), "False", "the working folder is not on sys.path");
  assert.equal(at(doc, "PYTHONPATH_ON_PATH"), "False", "PYTHONPATH is ignored (-I)");
  assertNoLeak(result, ["from-helper-module-1234"]);
});
