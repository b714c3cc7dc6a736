/**
 * Network failures name the address (`host:port`) and the real cause: DNS, connection
 * refused, TLS, a connection closed mid-answer, a request timeout; and an absent AWS
 * instance metadata service is reported as absent, not as the IMDS hop limit. Each runs
 * the real tool and checks the clean failure (exit code, one line, vault unchanged).
 */

import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { runTool } from "./support/run_tool.ts";
import { tempDir, tempVault } from "./support/temp.ts";
import { SECRET_KEY, vaultWithKeys } from "./support/aws.ts";
import assert from "node:assert/strict";

const KEYS = vaultWithKeys();
const LEAKABLE = [SECRET_KEY];

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** The environment of an AWS Secrets Manager run against `endpoint`. */
function awsEnv(vault: string, endpoint: string, extra: Record<string, string> = {}) {
  return {
    SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
    SECRETS_VAULT_PATH: vault,
    SECRETS_AWS_REGION: "eu-west-1",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    SECRETS_TIMEOUT: "2",
    ...extra,
  };
}

Deno.test("a closed port is reported as connection refused at host:port", async () => {
  await using tmp = await tempVault(KEYS);
  const port = closedPort();
  const snap = await snapshot(tmp.vault);
  const result = await runTool([], awsEnv(tmp.vault, `http://127.0.0.1:${port}`));
  await assertCleanFailure(result, snap, {
    code: 4,
    line: new RegExp(`connection to 127\\.0\\.0\\.1:${port} refused \\(nothing listens there\\)`),
    secrets: LEAKABLE,
  });
  assert.ok(!result.stderr.includes("fetch failed"), result.stderr);
});

Deno.test("an unresolvable host is reported as a DNS failure naming the host", async () => {
  await using tmp = await tempVault(KEYS);
  const snap = await snapshot(tmp.vault);
  const result = await runTool([], awsEnv(tmp.vault, "http://no-such-host.invalid:8200"));
  await assertCleanFailure(result, snap, {
    code: 4,
    line: /cannot resolve host no-such-host\.invalid \(DNS lookup failed\)/,
    secrets: LEAKABLE,
  });
});

Deno.test("a server that closes the connection mid-request is named with host:port", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096)).catch(() => null);
      conn.close();
    }
  })();
  try {
    await using tmp = await tempVault(KEYS);
    const snap = await snapshot(tmp.vault);
    const result = await runTool([], awsEnv(tmp.vault, `http://127.0.0.1:${port}`));
    await assertCleanFailure(result, snap, {
      code: 4,
      line: new RegExp(`127\\.0\\.0\\.1:${port} (closed the connection|was reset)`),
      secrets: LEAKABLE,
    });
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});

Deno.test("a request that gets no answer names host:port and SECRETS_REQUEST_TIMEOUT", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const held: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    await using tmp = await tempVault(KEYS);
    const snap = await snapshot(tmp.vault);
    const result = await runTool(
      [],
      awsEnv(tmp.vault, `http://127.0.0.1:${port}`, { SECRETS_REQUEST_TIMEOUT: "0.5" }),
    );
    await assertCleanFailure(result, snap, {
      code: 4,
      line: new RegExp(
        `no answer within 0\\.5s from 127\\.0\\.0\\.1:${port} \\(SECRETS_REQUEST_TIMEOUT\\)`,
      ),
      secrets: LEAKABLE,
    });
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await serving.catch(() => {});
  }
});

Deno.test("an untrusted TLS certificate is named with host:port, not retried", async () => {
  await using certs = await tempDir();
  const made = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      "key.pem",
      "-out",
      "cert.pem",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    cwd: certs.dir,
    stdout: "null",
    stderr: "null",
  }).output();
  assert.ok(made.success, "openssl made a self-signed certificate");
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(`${certs.dir}/cert.pem`),
    key: await Deno.readTextFile(`${certs.dir}/key.pem`),
    onListen: () => {},
    onError: () => new Response("", { status: 500 }),
  }, () => new Response("{}"));
  try {
    await using tmp = await tempVault(KEYS);
    const snap = await snapshot(tmp.vault);
    const started = performance.now();
    const result = await runTool(
      [],
      awsEnv(tmp.vault, `https://127.0.0.1:${server.addr.port}`, { SECRETS_TIMEOUT: "30" }),
    );
    await assertCleanFailure(result, snap, {
      code: 4,
      line: new RegExp(`TLS handshake with 127\\.0\\.0\\.1:${server.addr.port} failed \\(.+\\)`),
      secrets: LEAKABLE,
    });
    assert.ok(performance.now() - started < 10_000, "not retried until the deadline");
  } finally {
    await server.shutdown();
  }
});

Deno.test("no instance metadata service: says so, and that SECRETS_MANAGER defaulted to AWS", async () => {
  await using tmp = await tempVault("A: 1\n");
  const port = closedPort();
  const env = {
    SECRETS_VAULT_PATH: tmp.vault,
    SECRETS_AWS_REGION: "eu-west-1",
    AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${port}`,
    SECRETS_TIMEOUT: "5",
  };
  const snap = await snapshot(tmp.vault);
  const unset = await runTool([], env);
  await assertCleanFailure(unset, snap, {
    code: 3,
    line: new RegExp(
      `connection to 127\\.0\\.0\\.1:${port} refused .*no instance metadata service here.*SECRETS_MANAGER is not set, so the backend defaulted to AWS_SECRETS_MANAGER.*AWS_ACCESS_KEY_ID`,
    ),
  });
  assert.ok(!/hop limit/.test(unset.stderr), unset.stderr);

  const chosen = await runTool([], { ...env, SECRETS_MANAGER: "AWS_SECRETS_MANAGER" });
  await assertCleanFailure(chosen, snap, {
    code: 3,
    line: /no instance metadata service here.*give AWS credentials \(AWS_ACCESS_KEY_ID/,
  });
  assert.ok(!/hop limit|defaulted/.test(chosen.stderr), chosen.stderr);
});

Deno.test("an instance metadata address that never answers is reported as no IMDS, not the hop limit", async () => {
  // What a CI runner off EC2 sees at 169.254.169.254: connections that never get an answer.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const held: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    await using tmp = await tempVault("A: 1\n");
    const snap = await snapshot(tmp.vault);
    const started = performance.now();
    const result = await runTool([], {
      SECRETS_VAULT_PATH: tmp.vault,
      SECRETS_AWS_REGION: "eu-west-1",
      AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${port}`,
      SECRETS_TIMEOUT: "30",
    });
    await assertCleanFailure(result, snap, {
      code: 3,
      line: new RegExp(
        `no answer from 127\\.0\\.0\\.1:${port} to the token request or a GET: no instance metadata service here.*SECRETS_MANAGER is not set, so the backend defaulted to AWS_SECRETS_MANAGER`,
      ),
    });
    assert.ok(!/hop limit/.test(result.stderr), result.stderr);
    assert.ok(performance.now() - started < 15_000, "within seconds, not the request timeout");
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await serving.catch(() => {});
  }
});

Deno.test("a connection reset by the server is named as a reset at host:port", async () => {
  // Deno cannot send a TCP RST; Python can (SO_LINGER 0, then close).
  const server = new Deno.Command("python3", {
    args: [
      "-c",
      [
        "import socket, struct, sys",
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()",
        "print(s.getsockname()[1], flush=True)",
        "while True:",
        "    c, _ = s.accept(); c.recv(4096)",
        "    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()",
      ].join("\n"),
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = server.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    const port = Number(new TextDecoder().decode(value).trim());
    assert.ok(port > 0, "the reset server is listening");
    await using tmp = await tempVault(KEYS);
    const snap = await snapshot(tmp.vault);
    const result = await runTool([], awsEnv(tmp.vault, `http://127.0.0.1:${port}`));
    await assertCleanFailure(result, snap, {
      code: 4,
      line: new RegExp(`connection to 127\\.0\\.0\\.1:${port} was reset by the server or a proxy`),
      secrets: LEAKABLE,
    });
  } finally {
    server.kill("SIGKILL");
    await server.status;
    await server.stdout.cancel().catch(() => {});
  }
});

Deno.test("no AWS credentials with metadata disabled: says when SECRETS_MANAGER defaulted to AWS", async () => {
  await using tmp = await tempVault("A: 1\n");
  const snap = await snapshot(tmp.vault);
  const env = { SECRETS_VAULT_PATH: tmp.vault, AWS_EC2_METADATA_DISABLED: "true" };
  const unset = await runTool([], env);
  await assertCleanFailure(unset, snap, {
    code: 2,
    line:
      /AWS_EC2_METADATA_DISABLED is true; SECRETS_MANAGER is not set, so the backend defaulted to AWS_SECRETS_MANAGER: set SECRETS_MANAGER to choose another backend/,
  });
  const chosen = await runTool([], { ...env, SECRETS_MANAGER: "AWS_PARAMETER_STORE" });
  await assertCleanFailure(chosen, snap, {
    code: 2,
    line: /AWS_EC2_METADATA_DISABLED is true; give AWS credentials/,
  });
  assert.ok(!chosen.stderr.includes("defaulted"), chosen.stderr);
});
