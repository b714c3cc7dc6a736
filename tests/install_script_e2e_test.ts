/**
 * End-to-end tests of install.sh against a fake release store on 127.0.0.1: the archive
 * for each platform, the checksum check, an unknown version, `latest`, the default URL,
 * under `sh` (dash on Debian), under `busybox sh`, and in a busybox-only PATH (wget, no curl).
 */
import assert from "node:assert/strict";
import { ROOT } from "./support/run_tool.ts";
import {
  archiveName,
  releaseFiles,
  type ReleaseServer,
  startReleaseServer,
} from "./fakes/release_server.ts";

const VERSION = "0.1.0";
const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];
const marker = (target: string) => `fake secrets-orchestrator for ${target}`;
const binaryFor = (target: string) => `#!/bin/sh\necho '${marker(target)}'\n`;

function onPath(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not here */ }
  }
  return null;
}

const BUSYBOX = onPath("busybox");
if (!BUSYBOX) console.log("install.sh tests under busybox sh skipped: no busybox on PATH");

/** A folder whose PATH holds only busybox applets: no curl, busybox wget/tar/sha256sum. */
let busyboxOnly: string | null = null;
async function busyboxPath(): Promise<string> {
  if (busyboxOnly) return busyboxOnly;
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-busybox-" });
  const list = await new Deno.Command(BUSYBOX!, { args: ["--list"], stdout: "piped" }).output();
  for (const applet of new TextDecoder().decode(list.stdout).split("\n").filter(Boolean)) {
    await Deno.symlink(BUSYBOX!, `${dir}/${applet}`);
  }
  busyboxOnly = dir;
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return dir;
}

interface Shell {
  name: string;
  argv: string[];
  /** PATH for the run; default: the test's PATH. */
  path?: () => Promise<string>;
  ignore: boolean;
}

const SHELLS: Shell[] = [
  { name: "sh", argv: ["sh"], ignore: false },
  { name: "busybox sh", argv: [BUSYBOX ?? "busybox", "sh"], ignore: !BUSYBOX },
  {
    name: "busybox-only PATH",
    argv: [BUSYBOX ?? "busybox", "sh"],
    path: busyboxPath,
    ignore: !BUSYBOX,
  },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  bin: string;
  tmp: string;
}

/** Run install.sh in a fresh folder (HOME, PREFIX, TMPDIR inside it); removes the folder after `check`. */
async function install(
  shell: Shell,
  args: string[],
  env: Record<string, string>,
  check: (run: Run, dir: string) => Promise<void> | void,
  prepare?: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-install-" });
  try {
    await Deno.mkdir(`${dir}/tmp`);
    await Deno.mkdir(`${dir}/home`);
    if (prepare) await prepare(dir);
    const output = await new Deno.Command(shell.argv[0], {
      args: [...shell.argv.slice(1), `${ROOT}/install.sh`, ...args],
      env: {
        PATH: shell.path ? await shell.path() : Deno.env.get("PATH")!,
        HOME: `${dir}/home`,
        PREFIX: `${dir}/prefix`,
        TMPDIR: `${dir}/tmp`,
        ...env,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const run = {
      code: output.code,
      stdout: decode(output.stdout),
      stderr: decode(output.stderr),
      bin: `${dir}/prefix/bin`,
      tmp: `${dir}/tmp`,
    };
    await check(run, dir);
    // Whatever happened, install.sh leaves no temporary files behind.
    assert.deepEqual(await list(run.tmp), [], "install.sh left files in TMPDIR");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    return names.sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

async function runBinary(path: string): Promise<string> {
  const output = await new Deno.Command(path, { stdout: "piped", stderr: "piped" }).output();
  assert.equal(output.code, 0);
  return new TextDecoder().decode(output.stdout).trim();
}

async function withServer(
  files: Record<string, Uint8Array | string>,
  fn: (server: ReleaseServer) => Promise<void>,
): Promise<void> {
  const server = startReleaseServer(files);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

const FILES = await releaseFiles(VERSION, TARGETS, binaryFor);

const PLATFORMS: [string, string, string][] = [
  ["Linux", "x86_64", "x86_64-unknown-linux-gnu"],
  ["Linux", "aarch64", "aarch64-unknown-linux-gnu"],
  ["Linux", "amd64", "x86_64-unknown-linux-gnu"],
  ["Darwin", "arm64", "aarch64-apple-darwin"],
  ["Darwin", "x86_64", "x86_64-apple-darwin"],
];

for (const shell of SHELLS) {
  Deno.test({
    name: `install.sh (${shell.name}): installs the archive of each platform, checksum-verified`,
    ignore: shell.ignore,
    fn: () =>
      withServer(FILES, async (server) => {
        for (const [os, arch, target] of PLATFORMS) {
          server.requests.length = 0;
          await install(shell, [VERSION], {
            SECRETS_ORCHESTRATOR_BASE_URL: `${server.url}/`,
            SECRETS_ORCHESTRATOR_OS: os,
            SECRETS_ORCHESTRATOR_ARCH: arch,
          }, async (run) => {
            assert.equal(run.code, 0, run.stderr);
            assert.equal(run.stdout, "", "install.sh prints on stderr only");
            assert.deepEqual(await list(run.bin), ["secrets-orchestrator"]);
            assert.equal((await Deno.stat(`${run.bin}/secrets-orchestrator`)).mode! & 0o777, 0o755);
            assert.equal(await runBinary(`${run.bin}/secrets-orchestrator`), marker(target));
            assert.deepEqual(server.requests, [
              `v${VERSION}/SHA256SUMS`,
              `v${VERSION}/${archiveName(VERSION, target)}`,
            ]);
            assert.match(run.stderr, new RegExp(`installed .*/prefix/bin/secrets-orchestrator`));
          });
        }
      }),
  });

  Deno.test({
    name:
      `install.sh (${shell.name}): a checksum mismatch is refused, nothing installed or replaced`,
    ignore: shell.ignore,
    fn: () => {
      const target = "x86_64-unknown-linux-gnu";
      const sums = (FILES[`v${VERSION}/SHA256SUMS`] as string).replace(
        new RegExp(`^[0-9a-f]{64}(  ${archiveName(VERSION, target).replaceAll(".", "\\.")})$`, "m"),
        `${"0".repeat(64)}$1`,
      );
      assert.notEqual(sums, FILES[`v${VERSION}/SHA256SUMS`]);
      return withServer({ ...FILES, [`v${VERSION}/SHA256SUMS`]: sums }, async (server) => {
        await install(
          shell,
          [VERSION],
          {
            SECRETS_ORCHESTRATOR_BASE_URL: server.url,
            SECRETS_ORCHESTRATOR_OS: "Linux",
            SECRETS_ORCHESTRATOR_ARCH: "x86_64",
          },
          async (run) => {
            assert.notEqual(run.code, 0);
            assert.match(run.stderr, /checksum mismatch for secrets-orchestrator-0\.1\.0-x86_64/);
            assert.match(run.stderr, /nothing installed/);
            assert.deepEqual(await list(run.bin), ["secrets-orchestrator"]);
            assert.equal(
              await Deno.readTextFile(`${run.bin}/secrets-orchestrator`),
              "#!/bin/sh\necho old\n",
            );
          },
          async (dir) => {
            await Deno.mkdir(`${dir}/prefix/bin`, { recursive: true });
            await Deno.writeTextFile(
              `${dir}/prefix/bin/secrets-orchestrator`,
              "#!/bin/sh\necho old\n",
            );
          },
        );
      });
    },
  });

  Deno.test({
    name: `install.sh (${shell.name}): an unknown version is a clear error`,
    ignore: shell.ignore,
    fn: () =>
      withServer(FILES, async (server) => {
        await install(shell, ["v9.9.9"], {
          SECRETS_ORCHESTRATOR_BASE_URL: server.url,
          SECRETS_ORCHESTRATOR_OS: "Linux",
          SECRETS_ORCHESTRATOR_ARCH: "x86_64",
        }, async (run) => {
          assert.equal(run.code, 1);
          assert.match(
            run.stderr,
            /error: version 9\.9\.9 not found: .*\/v9\.9\.9\/SHA256SUMS .*404/,
          );
          assert.deepEqual(await list(run.bin), []);
        });
        await install(
          shell,
          ["not-a-version"],
          { SECRETS_ORCHESTRATOR_BASE_URL: server.url },
          (run) => {
            assert.equal(run.code, 1);
            assert.match(run.stderr, /error: 'not-a-version' is not a version/);
          },
        );
      }),
  });

  Deno.test({
    name: `install.sh (${shell.name}): latest resolves through latest/VERSION of the base URL`,
    ignore: shell.ignore,
    fn: () =>
      withServer(FILES, async (server) => {
        await install(shell, [], {
          SECRETS_ORCHESTRATOR_BASE_URL: server.url,
          SECRETS_ORCHESTRATOR_OS: "Linux",
          SECRETS_ORCHESTRATOR_ARCH: "aarch64",
        }, async (run) => {
          assert.equal(run.code, 0, run.stderr);
          assert.equal(server.requests[0], "latest/VERSION");
          assert.equal(
            await runBinary(`${run.bin}/secrets-orchestrator`),
            marker("aarch64-unknown-linux-gnu"),
          );
        });
      }),
  });
}

Deno.test("install.sh: without a base URL it downloads from the GitHub releases", async () => {
  // A fake curl records the URLs asked for and answers 404, so nothing leaves the machine.
  const fake = await Deno.makeTempDir({ prefix: "secrets-orchestrator-fakecurl-" });
  try {
    await Deno.writeTextFile(
      `${fake}/curl`,
      `#!/bin/sh\nfor a; do url=$a; done\necho "$url" >> "${fake}/urls"\nprintf 404\n`,
      { mode: 0o755 },
    );
    const shell = {
      name: "sh",
      argv: ["sh"],
      path: () => Promise.resolve(`${fake}:${Deno.env.get("PATH")}`),
      ignore: false,
    };
    const releases = "https://github.com/secrets-orchestrator/secrets-orchestrator/releases";
    await install(shell, ["0.2.0"], {
      SECRETS_ORCHESTRATOR_OS: "Darwin",
      SECRETS_ORCHESTRATOR_ARCH: "arm64",
    }, (run) => {
      assert.equal(run.code, 1);
      assert.match(run.stderr, /version 0\.2\.0 not found/);
    });
    await install(shell, ["latest"], {
      SECRETS_ORCHESTRATOR_OS: "Linux",
      SECRETS_ORCHESTRATOR_ARCH: "x86_64",
    }, (run) => {
      assert.equal(run.code, 1);
      assert.match(run.stderr, /no latest release at/);
    });
    assert.deepEqual((await Deno.readTextFile(`${fake}/urls`)).trim().split("\n"), [
      `${releases}/download/v0.2.0/SHA256SUMS`,
      `${releases}/latest/download/VERSION`,
    ]);
  } finally {
    await Deno.remove(fake, { recursive: true });
  }
});

Deno.test("install.sh: an unsupported platform is refused by name", async () => {
  const shell = SHELLS[0];
  await install(shell, [VERSION], {
    SECRETS_ORCHESTRATOR_OS: "FreeBSD",
    SECRETS_ORCHESTRATOR_ARCH: "x86_64",
  }, (run) => {
    assert.equal(run.code, 1);
    assert.match(run.stderr, /unsupported operating system 'FreeBSD'/);
  });
  await install(shell, [VERSION], {
    SECRETS_ORCHESTRATOR_OS: "Linux",
    SECRETS_ORCHESTRATOR_ARCH: "riscv64",
  }, (run) => {
    assert.equal(run.code, 1);
    assert.match(run.stderr, /unsupported CPU architecture 'riscv64'/);
  });
});
