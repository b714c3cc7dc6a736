import assert from "node:assert/strict";
import fc from "fast-check";
import { exportText, shellQuote, variableName } from "../lib/commands/export.ts";
import { sh } from "./support/custom_source.ts";
import { tempDir } from "./support/temp.ts";

Deno.test("shell quoting survives sh for arbitrary text (one sh run for all samples)", async () => {
  const samples = fc.sample(
    fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0")),
    { numRuns: 300, seed: 8 },
  );
  samples.push("'", "''", "\\'", "$(id)", "`id`", "\n\n", "a\r\nb", "${X:-y}", "%s", "-n");
  await using tmp = await tempDir();
  const { dir } = tmp;
  const lines = samples.map((value, i) => `V${i}=${shellQuote(value)}\n`).join("");
  await Deno.writeTextFile(`${dir}/f`, lines);
  const refs = samples.map((_, i) => `"$V${i}"`).join(" ");
  const out = await sh(`. ./f; printf '%s\\0' ${refs}`, dir);
  assert.deepEqual(out.split("\0").slice(0, -1), samples);
});

Deno.test("variable names join segments with _ and replace other characters", () => {
  assert.equal(
    variableName(["SNOWFLAKE", "TRANSFORM", "PASSWORD"], ""),
    "SNOWFLAKE_TRANSFORM_PASSWORD",
  );
  assert.equal(variableName(["my-key", "a.b"], "P_"), "P_my_key_a_b");
  assert.equal(exportText({}, undefined, "json", "", "v"), "{}\n");
  assert.equal(exportText({}, undefined, "yaml", "", "v"), "{}\n");
  assert.equal(exportText({ A: { B: "x'y" } }, "A", "env", "", "v"), "export B='x'\\''y'\n");
});
