/**
 * The distribution files: the workflows and action.yml (every external action pinned by a
 * commit SHA, least permissions), the GitLab component, the Dockerfile, and the Makefile's
 * build, dist, run and test-binary targets (with a fake `deno` standing in for compile).
 */
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { ROOT, RUN_FLAGS } from "./support/run_tool.ts";

const read = (path: string) => Deno.readTextFileSync(`${ROOT}/${path}`);
type Node = Record<string, unknown>;
const WORKFLOWS = [...Deno.readDirSync(`${ROOT}/.github/workflows`)]
  .filter((entry) => /\.ya?ml$/.test(entry.name))
  .map((entry) => `.github/workflows/${entry.name}`)
  .sort();
const UNIX = Deno.build.os !== "windows";

/**
 * The modules `deno compile` must be told about: the Worker entries, and what `main.ts`
 * imports by a specifier that is not a literal.
 */
const COMPILE_INCLUDES =
  "--include lib/cli/main.ts --include lib/cli/backend_worker.ts --include lib/cli/core_worker.ts";

Deno.test("deno compile includes every module main.ts imports by a non-literal specifier", () => {
  const source = read("main.ts");
  // A literal inside import() is embedded anyway; a name is not.
  const named = [...source.matchAll(/await import\((\w+)\)/g)].map((m) => m[1]);
  assert.ok(named.length > 0, "main.ts imports the rest of the tool by a name");
  for (const name of named) {
    const value = source.match(new RegExp(`const ${name} = "\\./([^"]+)"`))?.[1];
    assert.ok(value, `${name} is a string constant in main.ts`);
    assert.ok(`${COMPILE_INCLUDES} `.includes(`--include ${value} `), `${value} is not included`);
  }
  for (const file of ["Makefile", "Dockerfile"]) {
    const text = read(file).replace(/\\\n\s*/g, "");
    assert.ok(text.includes(COMPILE_INCLUDES), `${file} lacks ${COMPILE_INCLUDES}`);
  }
});

/** Every `uses:` of a workflow's steps and jobs, or of a composite action's steps. */
function usesOf(doc: Node): string[] {
  const found: string[] = [];
  const steps = (list: unknown) => {
    for (const step of (list ?? []) as Node[]) {
      if (typeof step.uses === "string") found.push(step.uses);
    }
  };
  for (const job of Object.values((doc.jobs ?? {}) as Record<string, Node>)) {
    if (typeof job.uses === "string") found.push(job.uses);
    steps(job.steps);
  }
  steps((doc.runs as Node | undefined)?.steps);
  return found;
}

/** Assert an external `uses:` is `owner/repo[/path]@<40 hex>` with a `# vX.Y.Z` comment. */
function assertPinned(file: string, text: string, uses: string): void {
  if (uses.startsWith("./") || uses.startsWith("docker://")) return;
  assert.match(
    uses,
    /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/,
    `${file}: ${uses} is not pinned by a commit SHA`,
  );
  const line = text.split("\n").find((l) => l.includes(`uses: ${uses}`));
  assert.match(line ?? "", /#\s*v\d+\.\d+\.\d+\s*$/, `${file}: ${uses} has no "# vX.Y.Z" comment`);
}

function restrictive(permissions: unknown): boolean {
  if (permissions === undefined) return false;
  if (typeof permissions !== "object" || permissions === null) return false;
  return Object.values(permissions as Record<string, string>).every((v) =>
    v === "read" || v === "none"
  );
}

Deno.test("workflows: both exist, parse, pin every action by SHA and declare least permissions", () => {
  assert.deepEqual(WORKFLOWS, [".github/workflows/ci.yml", ".github/workflows/release.yml"]);
  for (const file of WORKFLOWS) {
    const text = read(file);
    const doc = parse(text) as Node;
    const uses = usesOf(doc);
    assert.ok(uses.length > 0, `${file}: no uses`);
    for (const u of uses) assertPinned(file, text, u);
    const top = doc.permissions;
    assert.ok(
      top !== undefined && restrictive(top),
      `${file}: top-level permissions must be {} or read-only`,
    );
    for (const [name, job] of Object.entries(doc.jobs as Record<string, Node>)) {
      assert.ok(job.permissions !== undefined, `${file}: job ${name} declares no permissions`);
      // Write scopes only where a job needs them.
      const writes = Object.entries((job.permissions ?? {}) as Record<string, string>)
        .filter(([, v]) => v === "write").map(([k]) => k).sort();
      const allowed: Record<string, string[]> = {
        publish: ["attestations", "contents", "id-token"],
        images: ["attestations", "id-token", "packages"],
      };
      assert.deepEqual(writes, allowed[name] ?? [], `${file}: job ${name} writes ${writes}`);
    }
  }
  const ci = parse(read(".github/workflows/ci.yml")) as Node;
  assert.ok("push" in (ci.on as Node) && "pull_request" in (ci.on as Node));
  const ciText = read(".github/workflows/ci.yml");
  assert.match(ciText, /run: bash \.ci\/run/);
  assert.match(ciText, /make test-binary BIN=dist\/secrets-orchestrator/);
  const release = parse(read(".github/workflows/release.yml")) as Node;
  assert.deepEqual(((release.on as Node).push as Node).tags, ["v*"]);
});

Deno.test("action.yml: composite, pinned, every INPUT_ variable is one of its inputs", () => {
  const text = read("action.yml");
  const action = parse(text) as Node;
  const runs = action.runs as Node;
  assert.equal(runs.using, "composite");
  for (const u of usesOf(action)) assertPinned("action.yml", text, u);
  const inputs = Object.keys(action.inputs as Node).sort();
  assert.deepEqual(inputs, [
    "backend",
    "export-env",
    "export-path",
    "export-prefix",
    "selection",
    "vault-path",
    "version",
  ]);
  const step = (runs.steps as Node[])[0];
  const env = step.env as Record<string, string>;
  for (const input of inputs) {
    assert.equal(
      env[`INPUT_${input.toUpperCase().replaceAll("-", "_")}`],
      `\${{ inputs.${input} }}`,
    );
  }
  assert.match(String(step.run), /\.github\/action\/run\.sh/);
  // No ${{ }} expression inside the script itself (no template injection).
  assert.ok(!String(step.run).includes("${{"));
});

Deno.test("templates/load-secrets.yml: spec inputs, then a job installing via install.sh", () => {
  const text = read("templates/load-secrets.yml");
  const docs = parseAllDocuments(text);
  assert.equal(docs.length, 2);
  for (const doc of docs) assert.deepEqual(doc.errors, []);
  const spec = (docs[0].toJS() as Node).spec as Node;
  const inputs = Object.keys(spec.inputs as Node);
  for (const name of ["version", "backend", "selection", "vault-path", "stage", "job-prefix"]) {
    assert.ok(inputs.includes(name), `no input ${name}`);
  }
  for (const [, used] of text.matchAll(/\$\[\[\s*inputs\.([\w-]+)\s*\]\]/g)) {
    assert.ok(inputs.includes(used), `inputs.${used} is not declared`);
  }
  const jobs = docs[1].toJS() as Record<string, Node>;
  const job = jobs["$[[ inputs.job-prefix ]]load-secrets"];
  assert.ok(job, "no load-secrets job");
  assert.equal(job.stage, "$[[ inputs.stage ]]");
  const script = (job.script as string[]).join("\n");
  assert.match(script, /sh install\.sh/);
  assert.match(script, /secrets-orchestrator load/);
});

Deno.test("Dockerfile: build stage on the pinned Deno, distroless runtime and python targets as nonroot", () => {
  const lines = read("Dockerfile").replace(/\\\n/g, " ").split("\n").map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const stages: { from: string; name: string; lines: string[] }[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)\s+AS\s+(\S+)$/i.exec(line);
    if (from) stages.push({ from: from[1], name: from[2], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  assert.deepEqual(stages.map((s) => s.name), ["build", "python", "runtime"]);
  const [build, python, runtime] = stages;
  assert.equal(build.from, "denoland/deno:2.9.6");
  const compile = build.lines.find((l) => l.includes("deno compile")) ?? "";
  assert.ok(compile.includes(RUN_FLAGS.join(" ")), "deno compile without RUN_FLAGS");
  assert.ok(compile.includes(COMPILE_INCLUDES), compile);
  assert.equal(python.from, "gcr.io/distroless/python3-debian12:nonroot");
  assert.equal(runtime.from, "gcr.io/distroless/cc-debian12:nonroot");
  for (const stage of [python, runtime]) {
    assert.ok(
      stage.lines.some((l) =>
        /^COPY --from=build .* \/usr\/local\/bin\/secrets-orchestrator$/.test(l)
      ),
    );
    const users = stage.lines.filter((l) => l.startsWith("USER "));
    assert.deepEqual(users, ["USER nonroot"]);
    const entry = stage.lines.filter((l) => l.startsWith("ENTRYPOINT "));
    assert.deepEqual(entry, ['ENTRYPOINT ["/usr/local/bin/secrets-orchestrator"]']);
  }
});

async function make(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command("make", {
    args: ["--no-print-directory", "-C", ROOT, ...args],
    env: { DENORT_BIN: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** A fake `deno` for the Makefile: compile writes a small file to -o (or fails as a missing denort does). */
async function fakeDeno(dir: string): Promise<string> {
  const path = `${dir}/deno`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
echo "$* DENORT_BIN=\${DENORT_BIN:-}" >> "${dir}/calls"
case $1 in compile) ;; eval) echo x86_64-unknown-linux-gnu; exit 0 ;; *) exit 0 ;; esac
if [ -n "\${FAKE_DENO_FAIL:-}" ]; then
  echo "error: Writing deno compile executable to temporary file" >&2
  echo "    0: Setting up base binary." >&2
  echo "    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip)" >&2
  exit 1
fi
prev=; for a; do if [ "$prev" = -o ]; then out=$a; fi; prev=$a; done
printf 'binary for %s\\n' "$*" > "$out"
`,
    { mode: 0o755 },
  );
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test({
  name: "Makefile: make -n build shows deno compile; a missing denort is one clear line",
  ignore: !UNIX,
  fn: async () => {
    const dry = await make(["-n", "build"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.ok(
      dry.stdout.includes(
        `compile --frozen ${RUN_FLAGS.join(" ")} ${COMPILE_INCLUDES}`,
      ),
      dry.stdout,
    );
    const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-make-" });
    try {
      const deno = await fakeDeno(dir);
      const failed = await make(["build", `DENO=${deno}`, `OUT=${dir}/out/so`], {
        FAKE_DENO_FAIL: "1",
      });
      assert.notEqual(failed.code, 0);
      const hints = failed.stderr.split("\n").filter((l) => l.startsWith("make build:"));
      assert.equal(hints.length, 1, failed.stderr);
      assert.match(
        hints[0],
        /Deno runtime 'denort' 2\.9\.6 .*DENORT_BIN=\/path\/to\/denort.*denort-x86_64-unknown-linux-gnu\.zip of Deno 2\.9\.6/,
      );
      const built = await make([
        "build",
        `DENO=${deno}`,
        `OUT=${dir}/out/so`,
        "TARGET=aarch64-apple-darwin",
      ], { DENORT_BIN: "/opt/denort" });
      assert.equal(built.code, 0, built.stderr);
      assert.match(
        await Deno.readTextFile(`${dir}/out/so`),
        /--target aarch64-apple-darwin -o .*\/out\/so main\.ts/,
      );
      assert.match(await Deno.readTextFile(`${dir}/calls`), /DENORT_BIN=\/opt\/denort/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Makefile: make dist archives every target with LICENSE and writes SHA256SUMS",
  ignore: !UNIX,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-make-" });
    try {
      const deno = await fakeDeno(dir);
      const version = (JSON.parse(read("deno.json")) as { version: string }).version;
      const result = await make([
        "dist",
        `DENO=${deno}`,
        `RELEASE_DIR=${dir}/release`,
        `DIST_WORK=${dir}/targets`,
      ], { DENORT_BIN: "/wrong/for/cross/targets" });
      assert.equal(result.code, 0, result.stderr);
      const targets = [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
      ];
      const archives = targets.map((t) =>
        `secrets-orchestrator-${version}-${t}.${t.includes("windows") ? "zip" : "tar.gz"}`
      );
      const files = [...Deno.readDirSync(`${dir}/release`)].map((e) => e.name).sort();
      assert.deepEqual(files, [...archives, "SHA256SUMS", "VERSION", "install.sh"].sort());
      assert.equal(Deno.readTextFileSync(`${dir}/release/VERSION`), `${version}\n`);
      const sums = Deno.readTextFileSync(`${dir}/release/SHA256SUMS`).trim().split("\n");
      assert.deepEqual(
        sums.map((l) => l.replace(/^[0-9a-f]{64} {2}/, "")).sort(),
        [...archives].sort(),
      );
      const check = await new Deno.Command("sha256sum", {
        args: ["-c", "SHA256SUMS"],
        cwd: `${dir}/release`,
        stdout: "null",
        stderr: "null",
      }).output();
      assert.ok(check.success, "sha256sum -c SHA256SUMS failed");
      const list = async (cmd: string, args: string[]) =>
        new TextDecoder().decode(
          (await new Deno.Command(cmd, { args, stdout: "piped" }).output()).stdout,
        );
      assert.deepEqual(
        (await list("tar", ["-tzf", `${dir}/release/${archives[0]}`])).trim().split("\n").sort(),
        ["LICENSE", "secrets-orchestrator"],
      );
      assert.match(
        await list("unzip", ["-l", `${dir}/release/${archives[4]}`]),
        /secrets-orchestrator\.exe[\s\S]*LICENSE/,
      );
      // One compile per target, each with its --target, and without the host's DENORT_BIN.
      const calls = Deno.readTextFileSync(`${dir}/calls`).split("\n").filter((l) =>
        l.startsWith("compile")
      );
      assert.deepEqual(calls.map((c) => /--target (\S+)/.exec(c)?.[1]), targets);
      assert.ok(calls.every((c) => c.endsWith("DENORT_BIN=")), calls.join("\n"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Makefile: test-binary needs BIN; run runs the tool from the checkout",
  ignore: !UNIX,
  fn: async () => {
    const missing = await make(["test-binary"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /make test-binary: set BIN=\/path\/to\/secrets-orchestrator/);
    const dry = await make(["-n", "test-binary", "BIN=dist/x"]);
    assert.match(
      dry.stdout,
      /SECRETS_ORCHESTRATOR_BIN=".*\/dist\/x" .* test --frozen --allow-all --no-prompt tests\/\*_e2e_test\.ts/,
    );
    const run = await make(["run", "ARGS=--version"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^secrets-orchestrator \d+\.\d+\.\d+ \(.*, commit .*\)$/m);
  },
});
