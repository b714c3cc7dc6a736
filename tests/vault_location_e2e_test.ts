/**
 * The vault's location is checked before any network call: a vault path that is a folder,
 * a parent that is a file, a system path or an unwritable folder fails at once with exit 6
 * and one line naming the path, and no request reaches the backend. A dry run still
 * creates nothing. Deno's own permission text never reaches the user.
 */

import assert from "node:assert/strict";
import { assertOneErrorLine } from "./support/assertions.ts";
import { runTool } from "./support/run_tool.ts";
import { readBytes, tempDir } from "./support/temp.ts";

/** A server that counts requests and answers every one with a 500. */
function countingServer(): { url: string; requests: () => number } & AsyncDisposable {
  let count = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    count++;
    return new Response("{}", { status: 500 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests: () => count,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function env(url: string, vault: string): Record<string, string> {
  return {
    SECRETS_MANAGER: "HASHICORP_VAULT",
    SECRETS_HASHICORP_VAULT_URL: url,
    SECRETS_HASHICORP_VAULT_TOKEN: "hvs.location-test-token-0001",
    SECRETS_VAULT_PATH: vault,
    SECRETS_TIMEOUT: "20",
  };
}

/** Deno's advice to pass flags, which users of the binary cannot do. */
function assertNoDenoPermissionText(stderr: string): void {
  assert.ok(!/--allow-|NotCapable|run again with/.test(stderr), stderr);
}

Deno.test("vault location: a bad path fails with exit 6 before any request", async () => {
  await using server = countingServer();
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.dir}/file`, "not a folder\n");
  await Deno.mkdir(`${tmp.dir}/folder.yml`);
  const rows: { what: string; vault: string; line: RegExp }[] = [
    {
      what: "parent is a file",
      vault: `${tmp.dir}/file/vault.yml`,
      line:
        /the vault's folder .*\/file cannot be created: .*\/file is a file, not a folder; fix SECRETS_VAULT_PATH/,
    },
    {
      what: "an ancestor is a file",
      vault: `${tmp.dir}/file/a/b/vault.yml`,
      line: /the vault's folder .*\/file\/a\/b cannot be created: .*\/file is a file/,
    },
    {
      what: "vault path is a folder",
      vault: `${tmp.dir}/folder.yml`,
      line: /the vault path .*\/folder\.yml is a folder, not a file; fix SECRETS_VAULT_PATH/,
    },
    {
      what: "a system path the sandbox never opens",
      vault: "/proc/secrets-orchestrator/vault.yml",
      line:
        /the vault \/proc\/secrets-orchestrator\/vault\.yml cannot be used: \/proc, \/dev and \/sys are outside the tool's sandbox/,
    },
  ];
  for (const row of rows) {
    const started = performance.now();
    const result = await runTool([], env(server.url, row.vault));
    assert.equal(result.code, 6, `${row.what}: ${result.stderr}`);
    assertOneErrorLine(result, row.line);
    assertNoDenoPermissionText(result.stderr);
    assert.ok(!result.stderr.includes("fetching from"), `${row.what}: checked before the fetch`);
    assert.ok(performance.now() - started < 10_000, `${row.what}: at once`);
  }
  assert.equal(server.requests(), 0, "no request reached the backend");
  assert.equal(await readBytes(`${tmp.dir}/file`).then((b) => b?.length), 13, "file untouched");
});

Deno.test("vault location: a folder that cannot be written fails before any request", {
  // root writes through any mode bits, so this case exists only for other users.
  ignore: Deno.uid() === 0,
}, async () => {
  await using server = countingServer();
  await using tmp = await tempDir();
  await Deno.mkdir(`${tmp.dir}/ro`, { mode: 0o500 });
  try {
    for (const vault of [`${tmp.dir}/ro/vault.yml`, `${tmp.dir}/ro/sub/vault.yml`]) {
      const result = await runTool([], env(server.url, vault));
      assert.equal(result.code, 6, result.stderr);
      assertOneErrorLine(result, /cannot be (written|created in .*\/ro) \(permission denied\)/);
    }
    assert.equal(server.requests(), 0);
  } finally {
    await Deno.chmod(`${tmp.dir}/ro`, 0o700);
  }
});

Deno.test("vault location: a dry run into a missing folder creates nothing", async () => {
  await using tmp = await tempDir();
  const vault = `${tmp.dir}/new/deeper/vault.yml`;
  const result = await runTool(["--dry-run"], {
    SECRETS_MANAGER: "NONE",
    SECRETS_VAULT_PATH: vault,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual([...Deno.readDirSync(tmp.dir)], [], "nothing created");
  // A parent that is a file is still refused in a dry run.
  await Deno.writeTextFile(`${tmp.dir}/file`, "x");
  const bad = await runTool(["--dry-run"], {
    SECRETS_MANAGER: "NONE",
    SECRETS_VAULT_PATH: `${tmp.dir}/file/vault.yml`,
  });
  assert.equal(bad.code, 6, bad.stderr);
  assertOneErrorLine(bad, /is a file, not a folder/);
});

Deno.test("Deno's permission text is rewritten as what could not be read and why", async () => {
  await using server = countingServer();
  await using tmp = await tempDir();
  const vault = `${tmp.dir}/vault.yml`;
  const cases: { what: string; args: string[]; env: Record<string, string>; line: RegExp }[] = [
    {
      what: "a CA file under /proc",
      args: [],
      env: { ...env(server.url, vault), SECRETS_HASHICORP_VAULT_CACERT: "/proc/self/environ" },
      line:
        /SECRETS_HASHICORP_VAULT_CACERT \/proc\/self\/environ cannot be read \(\/proc, \/dev and \/sys are outside the tool's sandbox; use a regular file\)/,
    },
    {
      what: "a token file under /proc",
      args: [],
      env: {
        SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
        SECRETS_VAULT_PATH: vault,
        SECRETS_AWS_REGION: "eu-west-1",
        AWS_ENDPOINT_URL: server.url,
        AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/ci",
        AWS_WEB_IDENTITY_TOKEN_FILE: "/proc/self/environ",
      },
      line:
        /AWS_WEB_IDENTITY_TOKEN_FILE \/proc\/self\/environ cannot be read: \/proc, \/dev and \/sys are outside/,
    },
    {
      what: "a template under /proc",
      args: ["render", "/proc/self/environ"],
      env: { SECRETS_VAULT_PATH: vault },
      line:
        /cannot read the template \/proc\/self\/environ: the tool may not open \/proc\/self\/environ/,
    },
  ];
  for (const row of cases) {
    const result = await runTool(row.args, row.env);
    assert.notEqual(result.code, 0, row.what);
    assert.notEqual(result.code, 1, `${row.what}: not an internal failure: ${result.stderr}`);
    assertOneErrorLine(result, row.line);
    assertNoDenoPermissionText(result.stderr);
  }
  assert.equal(server.requests(), 0);
});
