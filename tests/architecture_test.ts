import assert from "node:assert/strict";
import { ROOT } from "./support/run_tool.ts";

/**
 * The dependency rule of docs/architecture.md, as data: each layer of `lib/` and
 * `providers/`, and the layers it may import. A file may always import its own layer.
 */
const RULES: Readonly<Record<string, readonly string[]>> = {
  "lib/contract": [],
  "lib/kit": ["lib/contract"],
  "lib/vault": ["lib/contract", "lib/kit", "lib/output"],
  "lib/output": ["lib/contract", "lib/kit"],
  "lib/commands": ["lib/contract", "lib/kit", "lib/vault", "lib/output"],
  "lib/isolation": ["lib/contract", "lib/kit", "lib/vault", "lib/output", "lib/commands"],
  "lib/cli": [
    "lib/contract",
    "lib/kit",
    "lib/vault",
    "lib/output",
    "lib/commands",
    "lib/isolation",
    "providers/registry",
    ".build", // the commit `make build` embeds, for --version
  ],
  "main": ["lib/cli", "deno.json"],
  "providers/registry": ["lib/contract", "providers/descriptor"],
  "providers/aws": ["lib/contract", "lib/kit"],
  "providers/azure": ["lib/contract", "lib/kit"],
  "providers/backend": ["lib/contract", "lib/kit", "providers/aws", "providers/azure"],
};

/** The layer of a repository path (`lib/kit/retry.ts` → `lib/kit`). */
export function layerOf(path: string): string {
  if (path === "main.ts") return "main";
  if (path === "deno.json") return "deno.json";
  if (path === "providers/registry.ts" || path === "providers/loaders.ts") {
    return "providers/registry";
  }
  const [top, folder] = path.split("/");
  if (top === "lib") return `lib/${folder}`;
  if (top === "providers") {
    if (folder === "aws" || folder === "azure") return `providers/${folder}`;
    return "providers/backend";
  }
  return top;
}

/** One import of one file. */
interface Edge {
  from: string;
  to: string;
  /** `static` (import/export from), `type` (erased), `dynamic` (import()) or `url` (new URL for a Worker). */
  kind: "static" | "type" | "dynamic" | "url";
}

const SPECIFIER =
  /(?:^|[^\w.])(?:(import|export)\s[^;]*?\sfrom\s*|import\s*\(\s*|new URL\(\s*)(["'])([^"']+)\2/gms;

/** Every relative import of `source` (a file at `from`), resolved to repository paths. */
export function importsOf(from: string, source: string): Edge[] {
  const edges: Edge[] = [];
  const code = source.replace(/^\s*(\/\/.*|\*.*|\/\*\*.*)$/gm, "");
  for (const match of code.matchAll(SPECIFIER)) {
    const [whole, keyword, , spec] = match;
    if (!spec.startsWith(".")) continue;
    // `import type` is erased: it loads nothing at run time.
    const kind = keyword
      ? /^\W*(import|export)\s+type\s/.test(whole) ? "type" : "static"
      : whole.includes("new URL")
      ? "url"
      : "dynamic";
    const to = new URL(spec, `file:///${from}`).pathname.slice(1);
    edges.push({ from, to, kind });
  }
  return edges;
}

/** Whether `edge` is allowed; the reason when it is not. */
export function violation(edge: Edge): string | undefined {
  const from = layerOf(edge.from);
  let to = layerOf(edge.to);
  if (from === to) {
    // A backend's folder may import itself; one backend may not import another.
    const sameFolder = edge.from.split("/")[1] === edge.to.split("/")[1];
    return from !== "providers/backend" || sameFolder
      ? undefined
      : `${edge.from} imports ${edge.to}: a backend imports no other backend`;
  }
  if (from === "providers/registry" && to === "providers/backend") {
    to = edge.to.endsWith("/mod.ts") ? "providers/descriptor" : to;
  }
  const allowed = RULES[from];
  if (allowed === undefined) return `${edge.from}: not in a known layer`;
  if (allowed.includes(to)) return undefined;
  return `${edge.from} imports ${edge.to}: ${from} may import only ${
    allowed.length > 0 ? allowed.join(", ") : "nothing of the project"
  }`;
}

async function sources(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(`${ROOT}/${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) {
        files.set(path, await Deno.readTextFile(`${ROOT}/${path}`));
      }
    }
  };
  await walk("lib");
  await walk("providers");
  files.set("main.ts", await Deno.readTextFile(`${ROOT}/main.ts`));
  return files;
}

Deno.test("the dependency rule: every import in lib/, providers/ and main.ts goes the allowed way", async () => {
  const files = await sources();
  const problems: string[] = [];
  for (const [path, source] of files) {
    for (const edge of importsOf(path, source)) {
      const problem = violation(edge);
      if (problem) problems.push(problem);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(files.size > 50, `read ${files.size} files`);
});

Deno.test("a backend's descriptor is light: no fetch module, HTTP client, aws4fetch, @noble/hashes or jose in its static imports", async () => {
  const files = await sources();
  const descriptors = [...files.keys()].filter((p) => /^providers\/[a-z_]+\/mod\.ts$/.test(p));
  assert.equal(descriptors.length, 6, descriptors.join(", "));
  for (const descriptor of descriptors) {
    const seen = new Set<string>();
    const visit = (path: string) => {
      if (seen.has(path)) return;
      seen.add(path);
      const source = files.get(path);
      if (source === undefined) return;
      assert.doesNotMatch(
        source,
        /from\s+"(aws4fetch|jose|@noble\/hashes\/[a-z0-9_.]+)"/,
        `${descriptor} reaches ${path}`,
      );
      for (const edge of importsOf(path, source)) if (edge.kind === "static") visit(edge.to);
    };
    visit(descriptor);
    const heavy = [...seen].filter((p) =>
      /\/fetch\.ts$|\/(http|json_client|credentials|client|auth|kv|certificate)\.ts$/.test(p)
    );
    assert.deepEqual(heavy, [], `${descriptor} statically loads ${heavy.join(", ")}`);
  }
});

Deno.test("only lib/cli and main.ts reach the registry; the core never imports providers/", async () => {
  const files = await sources();
  for (const [path, source] of files) {
    for (const edge of importsOf(path, source)) {
      if (!edge.to.startsWith("providers/")) continue;
      const ok = path.startsWith("lib/cli/") || path.startsWith("providers/");
      assert.ok(ok, `${path} imports ${edge.to}`);
    }
  }
});

Deno.test("the rule checker itself: it flags a core file that imports a provider, and reads every import form", () => {
  const core = importsOf(
    "lib/vault/merge.ts",
    [
      `import { x } from "../../providers/registry.ts";`,
      `import type {\n  A,\n  B,\n} from "../kit/errors.ts";`,
      `export { y } from "./tree.ts";`,
      `const m = await import("../../providers/none/mod.ts");`,
      `new Worker(new URL("../cli/core_worker.ts", import.meta.url));`,
      `// import { z } from "../cli/main.ts";`,
    ].join("\n"),
  );
  assert.deepEqual(core.map((e) => [e.to, e.kind]), [
    ["providers/registry.ts", "static"],
    ["lib/kit/errors.ts", "type"],
    ["lib/vault/tree.ts", "static"],
    ["providers/none/mod.ts", "dynamic"],
    ["lib/cli/core_worker.ts", "url"],
  ]);
  assert.match(
    violation(core[0])!,
    /lib\/vault may import only lib\/contract, lib\/kit, lib\/output/,
  );
  assert.equal(violation(core[1]), undefined);
  assert.match(violation(core[3])!, /providers\/none\/mod\.ts/);
  assert.match(violation(core[4])!, /lib\/cli\/core_worker\.ts/);
  assert.match(
    violation({ from: "providers/custom/mod.ts", to: "lib/cli/config.ts", kind: "static" })!,
    /providers\/backend may import only/,
  );
  assert.match(
    violation({ from: "providers/custom/fetch.ts", to: "providers/none/mod.ts", kind: "static" })!,
    /imports no other backend/,
  );
  assert.equal(
    violation({ from: "providers/registry.ts", to: "providers/custom/fetch.ts", kind: "static" })
      ?.includes("providers/registry may import only"),
    true,
  );
});

/** Every module `entries` reach by static imports; fails naming any that imports `banned`. */
async function staticGraph(entries: string[], banned: RegExp): Promise<Set<string>> {
  const files = await sources();
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const source = files.get(path);
    if (source === undefined) return;
    assert.doesNotMatch(source, banned, `${entries.join(" and ")} statically reach ${path}`);
    for (const edge of importsOf(path, source)) if (edge.kind === "static") visit(edge.to);
  };
  for (const entry of entries) visit(entry);
  return seen;
}

Deno.test("the main thread starts light: its static imports reach no yaml, jose, aws4fetch or @noble/hashes", async () => {
  const seen = await staticGraph(
    ["main.ts", "lib/cli/main.ts"],
    /from\s+"(yaml|jose|aws4fetch|@noble\/hashes\/[a-z0-9_.]+)"/,
  );
  assert.ok(seen.size > 20, `walked ${seen.size} modules`);
  assert.ok(!seen.has("lib/vault/yaml.ts"), "the vault engine's YAML is loaded lazily");
});

Deno.test("the main thread starts with no backend's descriptor: it loads the configured one", async () => {
  const seen = await staticGraph(["main.ts", "lib/cli/main.ts"], /$^/);
  assert.ok(seen.has("lib/cli/general_params.ts") && seen.has("providers/loaders.ts"));
  const descriptors = [...seen].filter((path) => /^providers\/(registry|\w+\/mod)\.ts$/.test(path));
  assert.deepEqual(descriptors, [], "every descriptor is loaded for --help or a command line only");
});

Deno.test("the core Worker starts without yaml: only a vault in another form loads it", async () => {
  const seen = await staticGraph(["lib/cli/core_worker.ts"], /from\s+"(yaml|jose|node:[a-z_]+)"/);
  assert.ok(seen.has("lib/vault/canonical.ts") && seen.has("lib/commands/load.ts"));
  assert.ok(!seen.has("lib/vault/yaml.ts") && !seen.has("lib/vault/yaml_document.ts"));
  assert.ok(!seen.has("providers/registry.ts"), "the core Worker loads one descriptor");
});

Deno.test("the backend Worker starts with no descriptor, HTTP client or signer loaded", async () => {
  const seen = await staticGraph(
    ["lib/cli/backend_worker.ts"],
    /from\s+"(yaml|jose|aws4fetch|@noble\/hashes\/[a-z0-9_.]+)"/,
  );
  assert.ok(seen.has("providers/loaders.ts"));
  assert.ok(![...seen].some((path) => /^providers\/(?!loaders\.ts)/.test(path)), [...seen].join());
});
