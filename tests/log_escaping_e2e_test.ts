/**
 * Names and script output with control characters cannot forge or hide output lines: a
 * secret name holding a newline and a fake "3 added" line, or ANSI escapes, is printed with
 * `\n`, `\x1b`, ... in dry-run lines and log lines, never raw.
 */

import assert from "node:assert/strict";
import { customEnv, customSource } from "./support/custom_source.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { assertNoLeak } from "./support/assertions.ts";

const FORGED = "ok\nsecrets-orchestrator: vault /ci/vault.yml: 3 added, 0 changed, 0 unchanged";
const RED = "red\x1b[31mname\x1b[0m";
const VALUES = ["forged-name-value-0001", "ansi-name-value-0002"];

/** Control characters that must never reach a terminal raw (newline only ends a line). */
// deno-lint-ignore no-control-regex -- control characters are exactly what is checked
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f\u2028\u2029]/;

Deno.test("dry run: a name with a newline or ANSI escapes prints as one escaped line", async () => {
  await using source = await customSource({ [FORGED]: VALUES[0], [RED]: VALUES[1] });
  await using tmp = await tempVault();
  const result = await runTool(["--dry-run"], customEnv(source.script, tmp.vault));
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 2, `one line per key:\n${result.stdout}`);
  assert.ok(lines.every((line) => line.startsWith("add ")), result.stdout);
  assert.ok(
    lines.some((line) => line.includes("ok\\nsecrets-orchestrator: vault /ci/vault.yml: 3 added")),
    result.stdout,
  );
  assert.ok(lines.some((line) => line.includes("red\\x1b[31mname\\x1b[0m")), result.stdout);
  assert.ok(!RAW_CONTROL.test(result.stdout), JSON.stringify(result.stdout));
  assert.ok(!RAW_CONTROL.test(result.stderr), JSON.stringify(result.stderr));
  // Only the tool's own summary says "added"; the forged text sits inside an escaped name.
  assert.ok(!/^secrets-orchestrator: vault \/ci\/vault\.yml/m.test(result.stderr));
  assertNoLeak(result, VALUES);
});

Deno.test("log lines: script output with ANSI escapes and newlines is escaped at --verbose", async () => {
  await using source = await customSource({ NAME: VALUES[0] });
  await Deno.writeTextFile(
    source.script,
    [
      "import sys",
      "def get_secrets():",
      "    print('colour \\x1b[31mred\\x1b[0m and \\x1b[2K erase\\r3 added')",
      "    return {'NAME': 'forged-name-value-0001'}",
      "",
    ].join("\n"),
  );
  await using tmp = await tempVault();
  const result = await runTool(["--verbose"], customEnv(source.script, tmp.vault));
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!RAW_CONTROL.test(result.stderr), JSON.stringify(result.stderr));
  assert.match(
    result.stderr,
    /custom script: colour \\x1b\[31mred\\x1b\[0m and \\x1b\[2K erase\\r3 added/,
  );
  assertNoLeak(result, VALUES);
});
