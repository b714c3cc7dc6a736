/**
 * Proof of the least-privilege bounds: the compiled permission set (`deno.json`, used by
 * `deno run -P` and `deno compile -P`), the backend's Worker limited to its plan, and the
 * core Worker limited to the vault's files.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../lib/cli/config.ts";
import {
  backendPermissions,
  commandPermissions,
  toWorkerPermissions,
} from "../lib/isolation/permissions.ts";
import { PROVIDERS } from "../providers/registry.ts";
import { allParams } from "../lib/cli/params.ts";
import type { Backend, ProviderSettings, SandboxPlan } from "../lib/contract/provider.ts";
import { startFake } from "./fakes/server.ts";
import { assertNoLeak } from "./support/assertions.ts";
import { ROOT, RUN_FLAGS, runTool } from "./support/run_tool.ts";
import { tempDir, tempVault } from "./support/temp.ts";
import { sandboxOf, testSettings } from "./support/settings.ts";
import type { ProbeRequest } from "./fixtures/probe_worker.ts";

const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));

function probe(
  permissions: Deno.PermissionOptionsObject,
  request: Partial<ProbeRequest>,
): Promise<Record<string, string>> {
  const worker = new Worker(new URL("./fixtures/probe_worker.ts", import.meta.url).href, {
    type: "module",
    deno: { permissions },
  } as WorkerOptions);
  return new Promise((resolve) => {
    worker.onmessage = (event) => {
      worker.terminate();
      resolve(event.data);
    };
    worker.postMessage({ fetch: [], read: [], write: [], env: [], run: [], ...request });
  });
}

function settings(env: Record<string, string>, cwd = "/work"): ProviderSettings {
  return testSettings({ env, requestTimeoutMs: 1000, deadlineInMs: 10_000, cwd });
}

Deno.test("deno.json: env is exactly the documented names; run any program (for `run`, revoked by the rest); no sys, ffi or remote import", () => {
  const perms = denoJson.permissions.default;
  assert.deepEqual([...perms.env].sort(), allParams().map((p) => p.name).sort());
  assert.equal(perms.run, true);
  assert.equal(perms.sys, false);
  assert.equal(perms.ffi, false);
  assert.equal(perms.import, false);
  assert.deepEqual(denoJson.unstable, ["worker-options"]);
});

Deno.test("under deno run -P an undocumented variable is unreadable, a documented one readable", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-P",
      "--no-prompt",
      "tests/fixtures/probe_env.ts",
      "SECRETS_MANAGER",
      "LOGNAME",
      "AWS_PROFILE",
    ],
    cwd: ROOT,
    env: { SECRETS_MANAGER: "NONE", AWS_PROFILE: "x", LOGNAME: "ci" },
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(
    new TextDecoder().decode(output.stdout),
    "SECRETS_MANAGER ok\nLOGNAME NotCapable\nAWS_PROFILE NotCapable\n",
  );
});

/** A typical configuration of each backend, pointing at `endpoint`. */
function configured(backend: Backend, endpoint: string, dir: string): ProviderSettings {
  const envs: Record<Backend, Record<string, string>> = {
    AWS_SECRETS_MANAGER: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "x",
    },
    AWS_PARAMETER_STORE: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "x",
    },
    AZURE_KEY_VAULT: {
      SECRETS_AZURE_KEY_VAULT_URL: endpoint,
      IDENTITY_ENDPOINT: `${endpoint}/msi/token`,
      IDENTITY_HEADER: "h",
    },
    HASHICORP_VAULT: { SECRETS_HASHICORP_VAULT_URL: endpoint, SECRETS_HASHICORP_VAULT_TOKEN: "t" },
    CUSTOM: { SECRETS_CUSTOM_SCRIPT: `${dir}/get_secrets.py` },
    NONE: {},
  };
  return settings(envs[backend], dir);
}

Deno.test("each backend's Worker reaches only its own hosts and reads only its own files", async () => {
  const allowed = startFake(() => new Response("ok"));
  const other = startFake(() => new Response("should never be reached"));
  await using tmp = await tempVault("SECRET: x\n");
  const { dir } = tmp;
  await Deno.writeTextFile(`${dir}/get_secrets.py`, "def get_secrets():\n    return {}\n");
  await Deno.writeTextFile(`${dir}/other.py`, "print('not configured')\n");
  try {
    for (
      const [backend, provider] of Object.entries(PROVIDERS) as [Backend, typeof PROVIDERS.NONE][]
    ) {
      const plan: SandboxPlan = await sandboxOf(provider, configured(backend, allowed.url, dir));
      const result = await probe(toWorkerPermissions(backendPermissions(plan)), {
        fetch: [
          `${other.url}/`,
          "https://myvault.vault.azure.net/secrets?api-version=7.6",
          "https://secretsmanager.eu-west-2.amazonaws.com/",
          ...(plan.net.length > 0 ? [`${allowed.url}/`] : []),
        ],
        read: [`${dir}/vault.yml`, `${dir}/other.py`, "/etc/hostname"],
        write: [`${dir}/vault.yml`, `${dir}/planted.txt`],
        env: ["HOME", "SECRETS_MANAGER"],
        run: ["sh"],
      });
      const where = `${backend}: ${JSON.stringify(result)}`;
      assert.equal(result[`fetch ${other.url}/`], "NotCapable", where);
      assert.equal(
        result["fetch https://myvault.vault.azure.net/secrets?api-version=7.6"],
        "NotCapable",
        where,
      );
      if (backend !== "AWS_SECRETS_MANAGER") {
        assert.equal(
          result["fetch https://secretsmanager.eu-west-2.amazonaws.com/"],
          "NotCapable",
          where,
        );
      }
      if (plan.net.length > 0) assert.equal(result[`fetch ${allowed.url}/`], "ok", where);
      for (const key of [`read ${dir}/vault.yml`, `read ${dir}/other.py`, "read /etc/hostname"]) {
        assert.equal(result[key], "NotCapable", `${key} in ${where}`);
      }
      assert.equal(result[`write ${dir}/vault.yml`], "NotCapable", where);
      assert.equal(result[`write ${dir}/planted.txt`], "NotCapable", where);
      assert.equal(result["env HOME"], "NotCapable", where);
      assert.equal(result["env SECRETS_MANAGER"], "NotCapable", where);
      assert.equal(result["run sh"], "NotCapable", where);
    }
  } finally {
    await allowed.close();
    await other.close();
  }
  assert.equal(other.requests, 0);
});

Deno.test("the AWS default endpoint is allowed to AWS only: Azure, Vault and other regions are refused", async () => {
  const plan = await sandboxOf(
    PROVIDERS.AWS_SECRETS_MANAGER,
    settings({ SECRETS_AWS_USE_ROLE: "0", AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "s" }),
  );
  assert.ok(plan.net.includes("secretsmanager.eu-west-2.amazonaws.com:443"), plan.net.join(","));
  const result = await probe(toWorkerPermissions(backendPermissions(plan)), {
    fetch: [
      "https://myvault.vault.azure.net/",
      "https://secretsmanager.us-east-1.amazonaws.com/",
      "https://vault.example.com:8200/v1/sys/health",
    ],
  });
  for (const outcome of Object.values(result)) assert.equal(outcome, "NotCapable");
});

Deno.test("the core Worker may write only the vault, its temp file, lock and manifest", async () => {
  await using tmp = await tempVault("A: 1\n");
  const { dir, vault } = tmp;
  const config = await resolveConfig(
    [],
    { SECRETS_MANAGER: "NONE", SECRETS_VAULT_PATH: vault },
    allParams(),
  );
  const perms = commandPermissions(config, dir);
  const result = await probe(toWorkerPermissions(perms), {
    write: [`${dir}/.vault.yml.tmp`, `${dir}/elsewhere.yml`, `${dir}/../escape.yml`],
    read: [vault, "/etc/hostname"],
    fetch: ["http://127.0.0.1:12345/"],
    env: ["SECRETS_MANAGER"],
    run: ["python3"],
  });
  assert.equal(result[`write ${dir}/.vault.yml.tmp`], "ok");
  assert.equal(result[`write ${dir}/elsewhere.yml`], "NotCapable");
  assert.equal(result[`write ${dir}/../escape.yml`], "NotCapable");
  assert.equal(result[`read ${vault}`], "ok");
  assert.equal(result["read /etc/hostname"], "NotCapable");
  assert.equal(result["fetch http://127.0.0.1:12345/"], "NotCapable");
  assert.equal(result["env SECRETS_MANAGER"], "NotCapable");
  assert.equal(result["run python3"], "NotCapable");
  const dry = commandPermissions({ ...config, dryRun: true }, dir);
  assert.deepEqual(dry.write, []);
});

Deno.test("a load writes only the vault, its lock and manifest; nothing else in its folder or the working folder", async () => {
  await using tmp = await tempVault("KEEP: me\n");
  const { dir, vault } = tmp;
  await using workDir = await tempDir();
  const work = workDir.dir;
  await Deno.writeTextFile(
    `${work}/get_secrets.py`,
    "def get_secrets():\n    return {'APP.TOKEN': 'tok-3f9a1c77e2'}\n",
  );
  const result = await runTool([], {
    SECRETS_MANAGER: "CUSTOM",
    SECRETS_CUSTOM_SCRIPT: "get_secrets.py",
    SECRETS_VAULT_PATH: vault,
  }, { cwd: work });
  assert.equal(result.code, 0, result.stderr);
  assertNoLeak(result, ["tok-3f9a1c77e2"]);
  const list = async (path: string) => {
    const names = [];
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
    return names.sort();
  };
  assert.deepEqual(await list(dir), ["vault.yml", "vault.yml.lock", "vault.yml.manifest.json"]);
  assert.deepEqual(await list(work), ["get_secrets.py"]);
});

Deno.test("a secret whose value names another URL is never fetched", async () => {
  const bait = startFake(() => new Response("bait"));
  await using tmp = await tempVault();
  const { dir, vault } = tmp;
  await Deno.writeTextFile(
    `${dir}/get_secrets.py`,
    `def get_secrets():\n    return {'NEXT': '${bait.url}/steal', 'JSON': '{"nextLink": "${bait.url}/x"}'}\n`,
  );
  const result = await runTool(["--verbose", "--expand-json"], {
    SECRETS_MANAGER: "CUSTOM",
    SECRETS_CUSTOM_SCRIPT: `${dir}/get_secrets.py`,
    SECRETS_VAULT_PATH: vault,
  });
  await bait.close();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(bait.requests, 0);
  assert.match(
    result.stderr,
    /backend sandbox: net=\[\] read=\[[^\]]*get_secrets\.py\] run=\[python3\]/,
  );
});

const denort = Deno.env.get("DENORT_BIN");
if (!denort) {
  console.log(
    "least_privilege_e2e_test: the compiled-binary smoke test is skipped: DENORT_BIN is not set, and deno compile cannot download denort here",
  );
}

Deno.test({
  name: "the compiled binary (make build with DENORT_BIN) runs the smoke load",
  ignore: !denort,
  async fn() {
    await using outDir = await tempDir();
    const out = outDir.dir;
    const build = await new Deno.Command("make", {
      args: ["-s", "build", `OUT=${out}/secrets-orchestrator`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
    await using tmp = await tempVault("KEEP: me\n");
    const { dir, vault } = tmp;
    await Deno.writeTextFile(
      `${dir}/get_secrets.py`,
      "def get_secrets():\n    return {'APP.TOKEN': 'bin-tok-88c1d2'}\n",
    );
    const run = await runTool([], {
      SECRETS_MANAGER: "CUSTOM",
      SECRETS_CUSTOM_SCRIPT: `${dir}/get_secrets.py`,
      SECRETS_VAULT_PATH: vault,
    }, { bin: `${out}/secrets-orchestrator` });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stderr.includes("bin-tok-88c1d2"));
    assertNoLeak(run, ["bin-tok-88c1d2"]);
    assert.match(await Deno.readTextFile(vault), /TOKEN: bin-tok-88c1d2/);
  },
});

Deno.test("make build compiles with the same flags the tests run with", async () => {
  const makefile = await Deno.readTextFile(`${ROOT}/Makefile`);
  const match = /^RUN_FLAGS := (.*)$/m.exec(makefile);
  assert.ok(match, "Makefile has no RUN_FLAGS");
  assert.deepEqual(match[1].trim().split(/\s+/), [...RUN_FLAGS]);
  assert.match(makefile, /compile --frozen \$\(RUN_FLAGS\)/);
});
