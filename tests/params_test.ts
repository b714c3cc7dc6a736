import assert from "node:assert/strict";
import { allParams } from "../lib/cli/params.ts";
import { ROOT } from "./support/run_tool.ts";

const PAGE = "docs/parameters.md";
const page = await Deno.readTextFile(`${ROOT}/${PAGE}`);
const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));

function parameterTable(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of page.split("\n")) {
    const match = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|([^|]*)\|/.exec(line);
    if (!match) continue;
    assert.ok(!rows.has(match[1]), `${PAGE} lists ${match[1]} twice`);
    rows.set(match[1], match[2].trim().replaceAll("`", ""));
  }
  return rows;
}

Deno.test(`${PAGE} has one parameter table`, () => {
  assert.equal(page.split("\n").filter((line) => /^\|\s*Name\s*\|/.test(line)).length, 1);
});

Deno.test(`the ${PAGE} parameter table lists exactly the documented parameters, with their defaults`, () => {
  const table = parameterTable();
  const params = allParams();
  assert.deepEqual([...table.keys()].sort(), params.map((p) => p.name).sort());
  for (const param of params) {
    assert.equal(table.get(param.name), (param.default ?? "").replaceAll("`", ""), param.name);
  }
});

Deno.test("no other Markdown file carries a parameter table, so there is one place to update", async () => {
  const others: string[] = [];
  for await (const file of markdownFiles(ROOT)) {
    if (file === `${ROOT}/${PAGE}`) continue;
    const text = await Deno.readTextFile(file);
    if (text.split("\n").some((line) => /^\|\s*Name\s*\|\s*Default\s*\|/.test(line))) {
      others.push(file.slice(ROOT.length + 1));
    }
  }
  assert.deepEqual(others, []);
});

Deno.test("the env permission in deno.json is exactly the documented parameters", () => {
  const env: string[] = denoJson.permissions.default.env;
  assert.deepEqual([...env].sort(), allParams().map((p) => p.name).sort());
});

async function* markdownFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(".") || ["node_modules", "dist"].includes(entry.name)) continue;
    const path = `${dir}/${entry.name}`;
    if (path === `${ROOT}/bench/out`) continue;
    if (entry.isDirectory) yield* markdownFiles(path);
    else if (entry.isFile && entry.name.endsWith(".md")) yield path;
  }
}
