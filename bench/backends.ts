/**
 * The benchmark's backends: for each, a fixture of N secrets served by the test fake
 * (with injected latency and the documented rate limits enforced), the environment that
 * points the tool at it, its round-trip floor, and a naive sequential client (list page
 * by page, then read each secret one by one, as a simple SDK script does).
 *
 * @module
 */

import { AwsClient } from "aws4fetch";
import { ACCESS_KEY_ID, SECRET_KEY, testKeys, vaultWithKeys } from "../tests/support/aws.ts";
import { azureIdentityFake } from "../tests/fakes/azure_identity.ts";
import { azureKeyVaultFake } from "../tests/fakes/azure_key_vault.ts";
import { secretsManagerFake } from "../tests/fakes/aws_secrets_manager.ts";
import { ssmFake } from "../tests/fakes/aws_ssm.ts";
import { fakeVault } from "../tests/fakes/hashicorp_vault.ts";
import {
  awsOperation,
  awsThrottled,
  DOCUMENTED_LIMITS,
  keyVaultThrottled,
  type RateLimitCounters,
  ssmLimits,
  withRateLimit,
} from "../tests/fakes/limits.ts";
import { type Fake, startFake } from "../tests/fakes/server.ts";
import { customSource } from "../tests/support/custom_source.ts";
import { MI_ID, TENANT } from "../tests/support/azure.ts";
import {
  customFloor,
  type Floor,
  keyVaultFloor,
  secretsManagerFloor,
  ssmFloor,
  vaultFloor,
} from "./floor.ts";
import { DEFAULT_CONCURRENCY } from "../providers/aws/config.ts";

/** A started fixture. */
export interface Fixture {
  /** Environment for the tool (besides `SECRETS_VAULT_PATH`). */
  env: Record<string, string>;
  /** Initial vault text (credentials), if any. */
  vaultText?: string;
  /** The server the load talks to (for requests and peak concurrency), if any. */
  server?: Fake;
  /** Every server the load talks to (for its network time), if any. */
  servers?: Fake[];
  /** Throttled answers the fake gave. */
  throttled(): number;
  /** The naive sequential client: returns the number of secrets it read. */
  naive(): Promise<number>;
  /** Vault keys a load must produce. */
  keys: number;
  /** Stop the fakes. */
  close(): Promise<void>;
}

/**
 * The load's time on the network as its servers saw it: from the first request to arrive
 * at any of them to the last answer handed back (NaN without servers).
 */
export function networkMs(servers: readonly Fake[] = []): number {
  servers = servers.filter((s) => s.requests > 0);
  if (servers.length === 0) return Number.NaN;
  const first = Math.min(...servers.map((s) => s.firstRequestAt));
  const last = Math.max(...servers.map((s) => s.lastAnswerAt));
  return last - first;
}

/** A backend under test. */
export interface Backend {
  /** Short id (for `BENCH_BACKENDS`). */
  id: string;
  /** Label for the table. */
  label: string;
  /** Default concurrency of the tool for this backend. */
  concurrency: number;
  /** The floor at N secrets and L ms. */
  floor(n: number, latencyMs: number): Floor;
  /** Start a fixture of `n` secrets with `latencyMs` per request. */
  start(n: number, latencyMs: number): Promise<Fixture>;
}

const value = (i: number) => `bench-value-${i}-${crypto.randomUUID()}`;
const pad = (i: number) => String(i).padStart(5, "0");
const sum = (counts: RateLimitCounters) =>
  Object.values(counts.throttled).reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry a throttled call the way SDKs do (Retry-After, else 100 ms doubling). */
async function sequentialCall(send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 0;; attempt++) {
    const response = await send();
    const throttledAws = response.status === 400 &&
      response.headers.get("content-type")?.includes("amz-json") &&
      (await response.clone().text()).includes("Throttling");
    if (response.status !== 429 && !throttledAws) return response;
    await response.body?.cancel();
    const after = Number(response.headers.get("retry-after") ?? NaN);
    await sleep(Number.isFinite(after) ? after * 1000 : Math.min(2000, 100 * 2 ** attempt));
  }
}

async function ok<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`naive client: HTTP ${response.status}`);
  return await response.json() as T;
}

function awsClient(service: string): AwsClient {
  return new AwsClient({
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_KEY,
    service,
    region: "eu-west-2",
  });
}

function awsCall<T>(
  client: AwsClient,
  url: string,
  target: string,
  body: unknown,
): Promise<T> {
  return sequentialCall(() =>
    client.fetch(`${url}/`, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": target },
      body: JSON.stringify(body),
    })
  ).then((response) => ok<T>(response));
}

/** Every name a paged AWS list operation returns, one page at a time (`NextToken`). */
async function awsNames(
  client: AwsClient,
  url: string,
  target: string,
  pageSize: number,
  listKey: "SecretList" | "Parameters",
): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall<Record<string, unknown> & { NextToken?: string }>(
      client,
      url,
      target,
      { MaxResults: pageSize, ...(token ? { NextToken: token } : {}) },
    );
    names.push(...(page[listKey] as { Name: string }[]).map((item) => item.Name));
    token = page.NextToken;
  } while (token);
  return names;
}

const secretsManager: Backend = {
  id: "sm",
  label: "AWS Secrets Manager",
  concurrency: DEFAULT_CONCURRENCY,
  floor: (n, l) => secretsManagerFloor(n, l, DEFAULT_CONCURRENCY),
  start(n, latencyMs) {
    const secrets = Array.from({ length: n }, (_, i) => ({
      name: `bench/key${pad(i)}`,
      string: value(i),
    }));
    const fake = secretsManagerFake(secrets, testKeys());
    const limited = withRateLimit(fake.handler, {
      bucket: awsOperation,
      rules: DOCUMENTED_LIMITS.secretsManager,
      throttled: awsThrottled,
    });
    const server = startFake(limited.handler, { latencyMs });
    return Promise.resolve({
      env: { SECRETS_MANAGER: "AWS_SECRETS_MANAGER", AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url },
      vaultText: vaultWithKeys(),
      server,
      servers: [server],
      keys: n + 2,
      throttled: () => sum(limited.counters),
      async naive() {
        const client = awsClient("secretsmanager");
        const names = await awsNames(
          client,
          server.url,
          "secretsmanager.ListSecrets",
          100,
          "SecretList",
        );
        let read = 0;
        for (const name of names) {
          const got = await awsCall<{ SecretString?: string }>(
            client,
            server.url,
            "secretsmanager.GetSecretValue",
            { SecretId: name },
          );
          if (got.SecretString !== undefined) read++;
        }
        return read;
      },
      close: () => server.close(),
    });
  },
};

/** SSM Parameter Store at one throughput setting, the fake enforcing its quotas. */
const parameterStore = (throughput: "standard" | "higher"): Backend => ({
  id: throughput === "standard" ? "ssm" : "ssm-higher",
  label: `AWS SSM Parameter Store${throughput === "standard" ? "" : " (higher throughput)"}`,
  concurrency: DEFAULT_CONCURRENCY,
  floor: (n, l) => ssmFloor(n, l, DEFAULT_CONCURRENCY, throughput),
  start(n, latencyMs) {
    const parameters = Array.from({ length: n }, (_, i) => ({
      name: `/bench/G${String(i % 100).padStart(2, "0")}/KEY${pad(i)}`,
      type: "SecureString" as const,
      value: value(i),
    }));
    const fake = ssmFake(parameters, testKeys());
    const limited = withRateLimit(fake.handler, ssmLimits(throughput));
    const server = startFake(limited.handler, { latencyMs });
    return Promise.resolve({
      env: {
        SECRETS_MANAGER: "AWS_PARAMETER_STORE",
        AWS_ENDPOINT_URL_SSM: server.url,
        SECRETS_AWS_SSM_THROUGHPUT: throughput,
      },
      vaultText: vaultWithKeys(),
      server,
      servers: [server],
      keys: n + 2,
      throttled: () => sum(limited.counters),
      async naive() {
        const client = awsClient("ssm");
        const names = await awsNames(
          client,
          server.url,
          "AmazonSSM.DescribeParameters",
          50,
          "Parameters",
        );
        let read = 0;
        for (const name of names) {
          // One name a call: the round trip of GetParameter (which the fake does not serve).
          const got = await awsCall<{ Parameters: unknown[] }>(
            client,
            server.url,
            "AmazonSSM.GetParameters",
            { Names: [name], WithDecryption: true },
          );
          read += got.Parameters.length;
        }
        return read;
      },
      close: () => server.close(),
    });
  },
});

const keyVault: Backend = {
  id: "kv",
  label: "Azure Key Vault",
  concurrency: 32,
  floor: (n, l) => keyVaultFloor(n, l, 32),
  start(n, latencyMs) {
    const identity = azureIdentityFake({ tenant: TENANT, systemIdentity: MI_ID });
    const secrets = Array.from({ length: n }, (_, i) => ({
      name: `BENCH-S${pad(i)}`,
      value: value(i),
    }));
    const kv = azureKeyVaultFake(
      { tenant: TENANT, secrets, access: { [MI_ID]: { list: true, get: true } } },
      { verify: identity.verify },
    );
    const limited = withRateLimit(kv.handler, {
      bucket: () => "vault",
      rules: DOCUMENTED_LIMITS.keyVault,
      throttled: keyVaultThrottled,
    });
    const identityServer = startFake(identity.handler, { latencyMs });
    const server = startFake(limited.handler, { latencyMs });
    return Promise.resolve({
      env: {
        SECRETS_MANAGER: "AZURE_KEY_VAULT",
        SECRETS_AZURE_KEY_VAULT_URL: server.url,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: identityServer.url,
      },
      server,
      servers: [identityServer, server],
      keys: n,
      throttled: () => sum(limited.counters),
      async naive() {
        const tokenUrl = new URL(`${identityServer.url}/metadata/identity/oauth2/token`);
        tokenUrl.searchParams.set("api-version", "2018-02-01");
        tokenUrl.searchParams.set("resource", "https://vault.azure.net");
        const { access_token } = await ok<{ access_token: string }>(
          await fetch(tokenUrl, { headers: { Metadata: "true" } }),
        );
        const get = (url: string) =>
          sequentialCall(() => fetch(url, { headers: { Authorization: `Bearer ${access_token}` } }))
            .then((response) => ok<Record<string, unknown>>(response));
        const names: string[] = [];
        let next: string | undefined = `${server.url}/secrets?api-version=7.6&maxresults=25`;
        while (next) {
          const page = await get(next) as { value: { id: string }[]; nextLink?: string };
          names.push(...page.value.map((item) => item.id.split("/").pop()!));
          next = page.nextLink || undefined;
        }
        let read = 0;
        for (const name of names) {
          const got = await get(`${server.url}/secrets/${name}?api-version=7.6`);
          if (typeof got.value === "string") read++;
        }
        return read;
      },
      close: async () => {
        await server.close();
        await identityServer.close();
      },
    });
  },
};

const VAULT_TOKEN = "hvs.CAESIbenchmarkTokenForTheFakeVault1";

const hashicorpVault: Backend = {
  id: "vault",
  label: "HashiCorp Vault KV v2",
  concurrency: 32,
  floor: (n, l) => vaultFloor(n, l, 32),
  start(n, latencyMs) {
    const secrets: Record<string, { data: Record<string, unknown> }> = {};
    for (let i = 0; i < n; i++) {
      const folder = String(Math.floor(i / 100)).padStart(3, "0");
      secrets[`bench/g${folder}/s${pad(i)}`] = { data: { VALUE: value(i) } };
    }
    const vault = fakeVault({
      namespaces: { "": { secret: { version: 2, secrets } } },
      policies: { reader: { "secret/data/*": ["read"], "secret/metadata/*": ["list"] } },
      tokens: { [VAULT_TOKEN]: { policies: ["reader"] } },
    });
    const server = startFake(vault.handler, { latencyMs });
    return Promise.resolve({
      env: {
        SECRETS_MANAGER: "HASHICORP_VAULT",
        SECRETS_HASHICORP_VAULT_URL: server.url,
        SECRETS_HASHICORP_VAULT_TOKEN: VAULT_TOKEN,
        SECRETS_SELECTION: "secret/bench/",
      },
      server,
      servers: [server],
      keys: n,
      throttled: () => vault.counters.throttled,
      async naive() {
        const call = (method: string, path: string) =>
          sequentialCall(() =>
            fetch(`${server.url}/v1/${path}`, {
              method,
              headers: { "X-Vault-Token": VAULT_TOKEN, "X-Vault-Request": "true" },
            })
          ).then((response) => ok<{ data: { keys?: string[]; data?: unknown } }>(response));
        const paths: string[] = [];
        const walk = async (folder: string) => {
          const listed = await call("LIST", `secret/metadata/${folder}`);
          for (const key of listed.data.keys ?? []) {
            if (key.endsWith("/")) await walk(`${folder}${key}`);
            else paths.push(`${folder}${key}`);
          }
        };
        await walk("bench/");
        let read = 0;
        for (const path of paths) {
          const got = await call("GET", `secret/data/${path}`);
          if (got.data.data) read++;
        }
        return read;
      },
      close: () => server.close(),
    });
  },
};

const custom: Backend = {
  id: "custom",
  label: "Custom script",
  concurrency: 1,
  floor: () => customFloor(),
  async start(n) {
    const data: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      data[`BENCH.G${String(i % 100).padStart(2, "0")}.KEY${pad(i)}`] = value(i);
    }
    const source = await customSource(data);
    return {
      env: { SECRETS_MANAGER: "CUSTOM", SECRETS_CUSTOM_SCRIPT: source.script },
      keys: n,
      throttled: () => 0,
      naive: () => Promise.resolve(Number.NaN),
      close: () => Deno.remove(source.dir, { recursive: true }),
    };
  },
};

/** Every backend, in table order. */
export const BACKENDS: readonly Backend[] = [
  secretsManager,
  parameterStore("standard"),
  parameterStore("higher"),
  keyVault,
  hashicorpVault,
  custom,
];
