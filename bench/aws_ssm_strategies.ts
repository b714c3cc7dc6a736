/**
 * Measures the two ways of reading an SSM path: paging `GetParametersByPath` (10 a page,
 * sequential) against `DescribeParameters` (50 a page) plus concurrent `GetParameters`
 * (10 names a call), over the fake with injected latency.
 *
 * Run: `.tools/bin/deno run -A bench/aws_ssm_strategies.ts [COUNT] [LATENCY_MS] [CONCURRENCY]`
 *
 * @module
 */

import { createLimiter } from "../lib/pool.ts";
import { credentialProvider } from "../providers/aws/credentials.ts";
import { jsonClient } from "../providers/aws/json_client.ts";
import {
  readByDescribe,
  readByPath,
  selectorFilter,
  type SsmSession,
} from "../providers/aws_parameter_store.ts";
import type { FetchContext } from "../providers/types.ts";
import { FakeKeyStore } from "../tests/fakes/aws_sigv4.ts";
import { type FakeParameter, ssmFake } from "../tests/fakes/aws_ssm.ts";
import { startFake } from "../tests/fakes/server.ts";

const count = Number(Deno.args[0] ?? 1000);
const latencyMs = Number(Deno.args[1] ?? 10);
const limit = Number(Deno.args[2] ?? 8);

const keys = new FakeKeyStore().add("AKIAIOSFODNN7EXAMPLE", "bench-secret-key");
const parameters: FakeParameter[] = Array.from({ length: count }, (_, i) => ({
  name: `/bench/GROUP${i % 10}/KEY${i}`,
  type: "SecureString",
  value: `value-${i}`,
}));
const fake = ssmFake(parameters, keys);
const server = startFake(fake.handler, { latencyMs });

function session(): { session: SsmSession; seen: () => number } {
  let seen = 0;
  const ctx: FetchContext = {
    settings: {
      env: {},
      selection: [],
      expandJson: false,
      vaultCredentials: {},
      cwd: Deno.cwd(),
      requestTimeoutMs: 30_000,
      deadline: Date.now() + 600_000,
    },
    log: { info: () => {}, warn: () => {}, debug: () => {} },
    emit: () => {},
    sensitive: () => {},
    signal: new AbortController().signal,
  };
  const credentials = credentialProvider(
    { kind: "env", accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "bench-secret-key" },
    ctx,
  );
  return {
    session: {
      ctx,
      client: jsonClient({
        endpoint: server.url,
        service: "ssm",
        targetPrefix: "AmazonSSM",
        label: "AWS SSM",
        region: "eu-west-2",
        credentials,
        ctx,
      }),
      limiter: createLimiter(limit),
      emit: () => seen++,
    },
    seen: () => seen,
  };
}

async function time(label: string, run: (s: SsmSession) => Promise<void>): Promise<void> {
  const runs: number[] = [];
  let got = 0;
  const before = server.requests;
  for (let i = 0; i < 3; i++) {
    const { session: s, seen } = session();
    const start = performance.now();
    await run(s);
    runs.push(performance.now() - start);
    got = seen();
  }
  runs.sort((a, b) => a - b);
  console.log(
    `${label}: median ${runs[1].toFixed(0)} ms (runs ${
      runs.map((r) => r.toFixed(0)).join(", ")
    }), ${got} parameters, ${(server.requests - before) / 3} requests a run`,
  );
}

console.log(`${count} parameters, ${latencyMs} ms latency, concurrency ${limit}`);
await time("GetParametersByPath", (s) => readByPath(s, "/bench"));
await time(
  "DescribeParameters + GetParameters",
  (s) => readByDescribe(s, [selectorFilter("/bench")]),
);
await server.close();
