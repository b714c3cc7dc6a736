/**
 * The documentation's shape: a short README that links every page in `docs/`, and no
 * relative link (or anchor) in the README, CONTRIBUTING.md or `docs/` that leads nowhere.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), ".."));
const README = join(ROOT, "README.md");
const MAX_README_LINES = 200;

/** Every file below `dir`, as absolute paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else if (entry.isFile) out.push(path);
  }
  return out.sort();
}

/** The text with fenced code blocks and inline code removed, so their brackets are not links. */
function prose(text: string): string {
  return text
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "")
    .replace(/`[^`\n]*`/g, "");
}

/** The targets of the inline links and images in a Markdown text. */
function linkTargets(text: string): string[] {
  const targets: string[] = [];
  for (
    const match of prose(text).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)
  ) {
    targets.push(match[1]);
  }
  return targets;
}

/** Whether a link target leaves the repository (a URL with a scheme, or protocol-relative). */
function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");
}

/** GitHub's anchors for the headings of a Markdown text (duplicates get -1, -2, ...). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").split("\n")) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    out.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return out;
}

/** The Markdown files whose links are checked. */
async function checkedFiles(): Promise<string[]> {
  const docs = (await filesUnder(join(ROOT, "docs"))).filter((file) => file.endsWith(".md"));
  return [README, join(ROOT, "CONTRIBUTING.md"), ...docs];
}

Deno.test(`README.md has at most ${MAX_README_LINES} lines`, async () => {
  const lines = (await Deno.readTextFile(README)).replace(/\n$/, "").split("\n").length;
  assert.ok(lines <= MAX_README_LINES, `README.md has ${lines} lines`);
});

Deno.test("every file under docs/ is linked from README.md with a relative link", async () => {
  const linked = new Set(
    linkTargets(await Deno.readTextFile(README))
      .filter((target) => !isExternal(target) && !target.startsWith("#"))
      .map((target) => join(ROOT, decodeURIComponent(target.split("#")[0]))),
  );
  const docs = await filesUnder(join(ROOT, "docs"));
  assert.ok(docs.length > 0, "docs/ is empty");
  const missing = docs.filter((file) => !linked.has(file)).map((file) => relative(ROOT, file));
  assert.deepEqual(missing, [], "not linked from README.md");
});

Deno.test("every relative link in README.md, CONTRIBUTING.md and docs/ points at a file that exists (and its anchor at a heading)", async () => {
  const broken: string[] = [];
  for (const file of await checkedFiles()) {
    const text = await Deno.readTextFile(file);
    for (const target of linkTargets(text)) {
      if (isExternal(target)) continue;
      const [path, anchor] = target.split("#", 2);
      const resolved = path === "" ? file : join(dirname(file), decodeURIComponent(path));
      const where = `${relative(ROOT, file)}: ${target}`;
      if (!resolved.startsWith(`${ROOT}/`) && resolved !== ROOT) {
        broken.push(`${where} (outside the repository)`);
        continue;
      }
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(resolved);
      } catch {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (anchor && info.isFile && resolved.endsWith(".md")) {
        if (!anchors(await Deno.readTextFile(resolved)).has(anchor)) {
          broken.push(`${where} (no such heading)`);
        }
      }
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("the link checker sees links, skips code and knows GitHub's anchors", () => {
  assert.deepEqual(
    linkTargets('[a](docs/a.md) `[b](b.md)` ![c](c.png)\n```\n[d](d.md)\n```\n[e](e.md#x "t")'),
    ["docs/a.md", "c.png", "e.md#x"],
  );
  assert.ok(isExternal("https://example.com") && isExternal("mailto:x@example.com"));
  assert.ok(!isExternal("../bench/RESULTS.md"));
  assert.deepEqual(
    [...anchors("# `get`, `render`, `export` and `mask`\n## Exit codes\n## Exit codes\n")],
    ["get-render-export-and-mask", "exit-codes", "exit-codes-1"],
  );
});
