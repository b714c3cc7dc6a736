/**
 * `run`'s command line and variables: what follows `--` is the command's, its PATHs and
 * flags, and the variables named as `export` names them, with its collision and name rules.
 *
 * @module
 */

import assert from "node:assert/strict";
import { resolveConfig } from "../lib/cli/config.ts";
import { allParams } from "../lib/cli/params.ts";
import { childVariables, entriesTree } from "../lib/commands/exec_env.ts";
import { kindOf } from "./support/assertions.ts";

const params = allParams();

Deno.test("run: the command after -- is taken as it is; PATHs and run's flags before it", async () => {
  const config = await resolveConfig(
    [
      "run",
      "--prefix",
      "S_",
      "--pristine",
      "--from-vault",
      "--no-mask",
      "A",
      "B.C",
      "--",
      "sh",
      "-c",
      "x",
      "--help",
      "--",
    ],
    {},
    params,
  );
  assert.equal(config.command, "run");
  assert.deepEqual(config.args, ["A", "B.C"]);
  assert.deepEqual(config.child, ["sh", "-c", "x", "--help", "--"]);
  assert.deepEqual(config.options, {
    format: undefined,
    output: undefined,
    outputDir: undefined,
    prefix: "S_",
    ci: undefined,
    pristine: true,
    fromVault: true,
    noMask: true,
  });
  assert.deepEqual((await resolveConfig(["run", "--", "true"], {}, params)).args, []);
  assert.deepEqual((await resolveConfig(["get", "A"], {}, params)).child, []);
});

Deno.test("run: command-line mistakes are configuration errors", async () => {
  for (
    const [argv, message] of [
      [["run"], /run needs a command after --/],
      [["run", "A", "--"], /run needs a command after --/],
      [["get", "A", "--", "sh"], /get takes no command after --/],
      [["--", "sh"], /load takes no command after --/],
      [["get", "A", "--pristine"], /--pristine does not apply to get/],
      [["export", "--format", "env", "--from-vault"], /--from-vault does not apply to export/],
      [["run", "--format", "json", "--", "sh"], /--format does not apply to run/],
    ] as const
  ) {
    await assert.rejects(() => resolveConfig([...argv], {}, params), (error: unknown) => {
      assert.ok(kindOf("config")(error), String(error));
      assert.match((error as Error).message, message);
      return true;
    });
  }
});

Deno.test("run: variables from several PATHs, named as export names them", () => {
  const tree = entriesTree([
    { path: ["DB", "PROD", "PASSWORD"], value: "p1", source: "s" },
    { path: ["DB", "PROD", "PORT"], value: 5432, source: "s" },
    { path: ["API", "token-v2"], value: true, source: "t" },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(tree)), {
    DB: { PROD: { PASSWORD: "p1", PORT: 5432 } },
    API: { "token-v2": true },
  });
  assert.deepEqual(childVariables(tree, [], "", "v"), {
    API_token_v2: "true",
    DB_PROD_PASSWORD: "p1",
    DB_PROD_PORT: "5432",
  });
  assert.deepEqual(childVariables(tree, ["DB.PROD", "API", "DB.PROD.PORT"], "X_", "v"), {
    X_PASSWORD: "p1",
    X_PORT: "5432",
    X_token_v2: "true",
  });
});

Deno.test("run: collisions across PATHs are conflicts, bad names and NUL configuration errors", () => {
  const tree = entriesTree([
    { path: ["A", "KEY"], value: "one", source: "s" },
    { path: ["B", "KEY"], value: "two", source: "s" },
    { path: ["C", "9LIVES"], value: "x", source: "s" },
    { path: ["D", "NUL"], value: "a\0b", source: "s" },
  ]);
  assert.throws(
    () => childVariables(tree, ["A", "B"], "", "v"),
    (error: unknown) =>
      kindOf("conflict")(error) &&
      /vault keys A\.KEY and B\.KEY both export as KEY/.test((error as Error).message),
  );
  assert.throws(() => childVariables(tree, ["C"], "", "v"), /9LIVES, which is not a valid one/);
  assert.deepEqual(childVariables(tree, ["C"], "S_", "v"), { S_9LIVES: "x" });
  assert.throws(() => childVariables(tree, ["D"], "", "v"), kindOf("config"));
  assert.throws(() => childVariables(tree, ["E"], "", "v"), kindOf("vault"));
});

Deno.test("run: keys named like Object's own properties are ordinary variables", () => {
  const tree = entriesTree([
    { path: ["__proto__", "x"], value: "p", source: "s" },
    { path: ["constructor"], value: "c", source: "s" },
  ]);
  const variables = childVariables(tree, [], "", "v");
  assert.deepEqual(Object.keys(variables).sort(), ["__proto___x", "constructor"]);
  assert.equal(variables.constructor, "c");
});
