/**
 * All or nothing, on every backend with selectors: a selector naming no secret fails the
 * run (exit 2) and nothing is written, not even the secrets that were found; with
 * `SECRETS_ALLOW_MISSING` it is skipped with a warning. Answers meaning "not found" and
 * "not allowed" are never retried: the fakes count exactly one request for each.
 */

import assert from "node:assert/strict";
import { at, readVaultDoc } from "./support/vault.ts";
import { assertNoLeak } from "./support/assertions.ts";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { tempVault } from "./support/temp.ts";
import { fakesWorld } from "./support/world.ts";
import { type RunResult, runTool } from "./support/run_tool.ts";
import { type FakeHandler, startFake } from "./fakes/server.ts";
import { secretsManagerFake } from "./fakes/aws_secrets_manager.ts";
import { ssmFake } from "./fakes/aws_ssm.ts";
import { SECRET_KEY, testKeys, vaultWithKeys } from "./support/aws.ts";
import { FULL_ACCESS, imdsEnv, MI_ID, startAzure } from "./support/azure.ts";
import {
  ALL_VALUES,
  CREDENTIALS,
  LIST_ONLY_TOKEN,
  ROOT_TOKEN,
  seed,
  startVault,
  VALUES,
  vaultEnv,
} from "./support/hashicorp_vault.ts";

/** Count requests by `METHOD path` plus the AWS target, if any. */
function tally(handler: FakeHandler): { handler: FakeHandler; seen: Map<string, number> } {
  const seen = new Map<string, number>();
  return {
    seen,
    handler: (request, info) => {
      const url = new URL(request.url);
      const target = request.headers.get("x-amz-target");
      const key = target ?? `${request.method} ${url.pathname}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      return handler(request, info);
    },
  };
}

interface Case {
  backend: string;
  /** Run with `extra` env over the vault `vaultText`; the fakes live for one run. */
  run(
    vault: string,
    extra: Record<string, string>,
  ): Promise<{ result: RunResult; seen: Map<string, number> }>;
  vaultText: string;
  found: { key: string; value: string };
  missing: string;
  /** Requests for the missing selector that must be made exactly once. */
  once: string[];
  leaks: string[];
}

const CASES: Case[] = [
  {
    backend: "AWS Secrets Manager",
    vaultText: vaultWithKeys(),
    found: { key: "app/db", value: "found-db-pa55word" },
    missing: "app/nope",
    once: ["secretsmanager.BatchGetSecretValue"],
    leaks: ["found-db-pa55word", SECRET_KEY],
    async run(vault, extra) {
      const sm = secretsManagerFake([{ name: "app/db", string: "found-db-pa55word" }], testKeys());
      const counted = tally(sm.handler);
      const server = startFake(counted.handler);
      try {
        const result = await runTool([], {
          SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
          AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
          SECRETS_SELECTION: "app/db,app/nope",
          SECRETS_VAULT_PATH: vault,
          ...extra,
        });
        return { result, seen: counted.seen };
      } finally {
        await server.close();
      }
    },
  },
  {
    backend: "AWS SSM Parameter Store",
    vaultText: vaultWithKeys(),
    found: { key: "dataops/db/PASSWORD", value: "found-ssm-pa55word" },
    missing: "/nope/",
    once: [],
    leaks: ["found-ssm-pa55word", SECRET_KEY],
    async run(vault, extra) {
      const ssm = ssmFake([
        { name: "/dataops/db/PASSWORD", type: "SecureString", value: "found-ssm-pa55word" },
      ], testKeys());
      const counted = tally(ssm.handler);
      const server = startFake(counted.handler);
      try {
        const result = await runTool([], {
          SECRETS_MANAGER: "AWS_PARAMETER_STORE",
          AWS_ENDPOINT_URL_SSM: server.url,
          SECRETS_SELECTION: "/dataops/,/nope/",
          SECRETS_VAULT_PATH: vault,
          ...extra,
        });
        return { result, seen: counted.seen };
      } finally {
        await server.close();
      }
    },
  },
  {
    backend: "Azure Key Vault",
    vaultText: "KEEP: me\n",
    found: { key: "A.ONE", value: "found-azure-value" },
    missing: "NOPE-GONE",
    once: ["GET /secrets/NOPE-GONE"],
    leaks: ["found-azure-value"],
    async run(vault, extra) {
      await using world = startAzure({}, {
        secrets: [{ name: "A-ONE", value: "found-azure-value" }],
        access: FULL_ACCESS,
      });
      const counted = tally(world.kv.handler);
      await using _server = fakesWorld([counted.handler]);
      const [server] = _server.fakes;
      const result = await runTool([], {
        ...imdsEnv(world, vault),
        SECRETS_AZURE_KEY_VAULT_URL: server.url,
        SECRETS_SELECTION: "A-ONE,NOPE-GONE",
        ...extra,
      });
      return { result, seen: counted.seen };
    },
  },
  {
    backend: "HashiCorp Vault",
    vaultText: "KEEP: me\n",
    found: { key: "SNOWFLAKE.TRANSFORM.PASSWORD", value: VALUES.transformPassword },
    missing: "secret/nope/gone",
    once: ["GET /v1/secret/data/nope/gone"],
    leaks: [...ALL_VALUES, ...CREDENTIALS],
    async run(vault, extra) {
      await using running = startVault(seed());
      const counted = tally(running.vault.handler);
      await using _server = fakesWorld([counted.handler]);
      const [server] = _server.fakes;
      const result = await runTool([], {
        ...vaultEnv(server.url, vault, { SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN }),
        SECRETS_SELECTION: "secret/SNOWFLAKE/TRANSFORM,secret/nope/gone",
        SECRETS_STRIP_PREFIX: "",
        ...extra,
      });
      return { result, seen: counted.seen };
    },
  },
];

for (const c of CASES) {
  Deno.test(`${c.backend}: a missing selector fails the whole load (nothing written); SECRETS_ALLOW_MISSING skips it with a warning`, async () => {
    await using tmp = await tempVault(c.vaultText);
    const { vault } = tmp;
    const snap = await snapshot(vault);
    const strict = await c.run(vault, {});
    // Nothing written, not even what was found.
    await assertCleanFailure(strict.result, snap, {
      code: 2,
      line: new RegExp(c.missing.replace(/^\/|\/$/g, "")),
      secrets: c.leaks,
    });
    for (const request of c.once) {
      assert.equal(strict.seen.get(request), 1, `${request} asked once, never retried`);
    }

    const lenient = await c.run(vault, { SECRETS_ALLOW_MISSING: "yes" });
    assert.equal(lenient.result.code, 0, lenient.result.stderr);
    assert.match(lenient.result.stderr, /warning: .*SECRETS_ALLOW_MISSING/);
    assert.match(
      lenient.result.stderr.split("\n").find((l) => l.includes("warning")) ?? "",
      new RegExp(c.missing.replace(/^\/|\/$/g, "")),
    );
    const doc = await readVaultDoc(vault);
    const key = c.found.key.replaceAll("/", ".");
    assert.equal(at(doc, key), c.found.value);
    assert.equal(at(doc, "KEEP") ?? "me", "me");
    assertNoLeak(lenient.result, c.leaks);
  });
}

Deno.test("not allowed is never retried: one request per refused call on every backend", async () => {
  // AWS Secrets Manager: ListSecrets denied.
  {
    const sm = secretsManagerFake([{ name: "a", string: "aws-denied-value" }], testKeys(), {
      deny: ["ListSecrets"],
    });
    const counted = tally(sm.handler);
    const server = startFake(counted.handler);
    await using tmp = await tempVault(vaultWithKeys());
    const { vault } = tmp;
    const result = await runTool([], {
      SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      SECRETS_VAULT_PATH: vault,
    });
    await server.close();
    assert.equal(result.code, 3, result.stderr);
    assert.equal(counted.seen.get("secretsmanager.ListSecrets"), 1);
  }
  // AWS SSM: unknown key id (UnrecognizedClientException).
  {
    const ssm = ssmFake([{ name: "/a/b", type: "String", value: "ssm-x-value" }], testKeys());
    const counted = tally(ssm.handler);
    const server = startFake(counted.handler);
    await using tmp2 = await tempVault(vaultWithKeys("", "AKIAUNKNOWNKEY000000", SECRET_KEY));
    const { vault } = tmp2;
    const result = await runTool([], {
      SECRETS_MANAGER: "AWS_PARAMETER_STORE",
      AWS_ENDPOINT_URL_SSM: server.url,
      SECRETS_VAULT_PATH: vault,
    });
    await server.close();
    assert.equal(result.code, 3, result.stderr);
    assert.equal(counted.seen.get("AmazonSSM.DescribeParameters"), 1);
  }
  // Azure: get denied (403) for each selected secret, asked once each.
  {
    await using world = startAzure({}, {
      secrets: [{ name: "A-ONE", value: "azure-denied-value" }],
      access: { [MI_ID]: { list: true, get: false } },
    });
    const counted = tally(world.kv.handler);
    const server = startFake(counted.handler);
    await using tmp3 = await tempVault();
    const { vault } = tmp3;
    const result = await runTool([], {
      ...imdsEnv(world, vault),
      SECRETS_AZURE_KEY_VAULT_URL: server.url,
      SECRETS_SELECTION: "A-ONE",
    });
    await server.close();
    await world.close();
    assert.equal(result.code, 3, result.stderr);
    assert.equal(counted.seen.get("GET /secrets/A-ONE"), 1);
    assert.equal(world.kv.counters.forbidden, 1);
  }
  // Vault: read denied (403) once for the selected secret.
  {
    await using running = startVault(seed());
    const counted = tally(running.vault.handler);
    const server = startFake(counted.handler);
    await using tmp4 = await tempVault();
    const { vault } = tmp4;
    const result = await runTool([], {
      ...vaultEnv(server.url, vault, { SECRETS_HASHICORP_VAULT_TOKEN: LIST_ONLY_TOKEN }),
      SECRETS_SELECTION: "secret/SNOWFLAKE/TRANSFORM",
    });
    await server.close();
    assert.equal(result.code, 3, result.stderr);
    assert.equal(counted.seen.get("GET /v1/secret/data/SNOWFLAKE/TRANSFORM"), 1);
  }
});
