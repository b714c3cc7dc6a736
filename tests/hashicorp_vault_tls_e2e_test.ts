/**
 * HashiCorp Vault over HTTPS with a private CA: a CA and a server certificate for
 * 127.0.0.1 are generated with `openssl` for each run (nothing is committed), the fake
 * serves TLS with them, and the tool trusts the CA only through
 * `SECRETS_HASHICORP_VAULT_CACERT`. Also checks the sandbox: only the Vault's host:port and
 * only the CA file.
 */

import assert from "node:assert/strict";
import { readVaultDoc } from "./support/vault.ts";
import {
  ALL_VALUES,
  CREDENTIALS,
  ROOT_TOKEN,
  seed,
  startVault,
  USER_PASSWORD,
  VALUES,
  vaultEnv,
} from "./support/hashicorp_vault.ts";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { readBytes, tempVault } from "./support/temp.ts";
import { runTool } from "./support/run_tool.ts";

const LEAKABLE = [...ALL_VALUES, ...CREDENTIALS];

async function openssl(args: string[], cwd: string): Promise<void> {
  const output = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/** A fresh CA and a server certificate for 127.0.0.1 signed by it (PEM files in `dir`). */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...curve,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=secrets-orchestrator test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await openssl([
    "req",
    ...curve,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ], dir);
  return { ca: `${dir}/ca.pem`, cert: `${dir}/server.pem`, key: `${dir}/server.key` };
}

Deno.test("TLS with a private CA: trusted through SECRETS_HASHICORP_VAULT_CACERT, refused cleanly without it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hvault-tls-" });
  const files = await makeCertificates(dir);
  const { server, vault } = startVault(seed(), {}, {
    tls: { cert: await Deno.readTextFile(files.cert), key: await Deno.readTextFile(files.key) },
  });
  try {
    assert.ok(server.url.startsWith("https://127.0.0.1:"));
    await using tmp = await tempVault();
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      ["--verbose"],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_USERNAME: "ci-user",
        SECRETS_HASHICORP_VAULT_PASSWORD: USER_PASSWORD,
        SECRETS_HASHICORP_VAULT_CACERT: files.ca,
        SECRETS_SELECTION: "secret/SNOWFLAKE/TRANSFORM",
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [...LEAKABLE, ...vault.counters.issued]);
    assert.deepEqual(await readVaultDoc(vaultPath), {
      SNOWFLAKE: {
        TRANSFORM: { USERNAME: VALUES.transformUser, PASSWORD: VALUES.transformPassword },
      },
    });
    assert.deepEqual(vault.counters.revoked, vault.counters.issued);
    // The sandbox: the Vault's host:port and the CA file, nothing else.
    assert.match(
      result.stderr,
      new RegExp(
        `sandbox: net=\\[127\\.0\\.0\\.1:${server.port}\\] read=\\[${files.ca}\\] run=\\[\\]`,
      ),
    );

    // The same run with the CA given by VAULT_CACERT, relative to the working folder.
    await using tmp2 = await tempVault();
    const { vault: relativePath } = tmp2;
    const relative = await runTool(
      [],
      vaultEnv(server.url, relativePath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
        VAULT_CACERT: "ca.pem",
        SECRETS_SELECTION: "secret/SNOWFLAKE/TRANSFORM",
      }),
      { cwd: dir },
    );
    assert.equal(relative.code, 0, relative.stderr);
    assertNoLeak(relative, LEAKABLE);

    // Without the CA: the certificate is not trusted; one clear line, not retried.
    await using tmp3 = await tempVault("EXISTING:\n  KEY: keep-me\n");
    const { vault: failPath } = tmp3;
    const before = await readBytes(failPath);
    const requests = server.requests;
    const started = performance.now();
    const failed = await runTool(
      [],
      vaultEnv(server.url, failPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
      }),
    );
    assert.equal(failed.code, 4, failed.stderr);
    assertOneErrorLine(
      failed,
      /TLS handshake with 127\.0\.0\.1:\d+ failed \(.+\): the certificate cannot be verified; if Vault uses a private CA, set SECRETS_HASHICORP_VAULT_CACERT/,
    );
    assertNoLeak(failed, LEAKABLE);
    assert.deepEqual(await readBytes(failPath), before);
    assert.equal(server.requests, requests, "no request reached the handler");
    assert.ok(performance.now() - started < 5000, "not retried until the deadline");

    // With a CA that did not sign the server's certificate: the same clean failure.
    const otherDir = await Deno.makeTempDir({ prefix: "hvault-tls-other-" });
    try {
      const other = await makeCertificates(otherDir);
      const wrong = await runTool(
        [],
        vaultEnv(server.url, failPath, {
          SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
          SECRETS_HASHICORP_VAULT_CACERT: other.ca,
        }),
      );
      assert.equal(wrong.code, 4, wrong.stderr);
      assertOneErrorLine(
        wrong,
        /cannot be verified against the system roots or the CA in SECRETS_HASHICORP_VAULT_CACERT/,
      );
      assertNoLeak(wrong, LEAKABLE);
      assert.deepEqual(await readBytes(failPath), before);
    } finally {
      await Deno.remove(otherDir, { recursive: true });
    }
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unreadable CA file is a configuration error naming it", async () => {
  const { server } = startVault(seed());
  try {
    await using tmp = await tempVault();
    const { dir, vault: vaultPath } = tmp;
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
        SECRETS_HASHICORP_VAULT_CACERT: `${dir}/missing-ca.pem`,
      }),
    );
    assert.equal(result.code, 2, result.stderr);
    assertOneErrorLine(result, /SECRETS_HASHICORP_VAULT_CACERT \S+missing-ca\.pem cannot be read/);
    assert.equal(server.requests, 0);
  } finally {
    await server.close();
  }
});
