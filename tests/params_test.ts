import assert from "node:assert/strict";
import { allParams } from "../providers/registry.ts";
import { ROOT } from "./support/run_tool.ts";

const readme = await Deno.readTextFile(`${ROOT}/README.md`);
const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));

function readmeTable(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readme.split("\n")) {
    const match = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|([^|]*)\|/.exec(line);
    if (!match) continue;
    assert.ok(!rows.has(match[1]), `README lists ${match[1]} twice`);
    rows.set(match[1], match[2].trim().replaceAll("`", ""));
  }
  return rows;
}

Deno.test("the README has one parameter table", () => {
  assert.equal(readme.split("\n").filter((line) => /^\|\s*Name\s*\|/.test(line)).length, 1);
});

Deno.test("the README parameter table lists exactly the documented parameters, with their defaults", () => {
  const table = readmeTable();
  const params = allParams();
  assert.deepEqual([...table.keys()].sort(), params.map((p) => p.name).sort());
  for (const param of params) {
    assert.equal(table.get(param.name), (param.default ?? "").replaceAll("`", ""), param.name);
  }
});

Deno.test("the env permission in deno.json is exactly the documented parameters", () => {
  const env: string[] = denoJson.permissions.default.env;
  assert.deepEqual([...env].sort(), allParams().map((p) => p.name).sort());
});
