/**
 * `lib/kit/oidc.ts` against the GitHub Actions token endpoint fake: the request exactly as
 * `@actions/core` makes it (the runner's URL plus `&audience=`, the bearer token), refusals
 * and bad answers as typed errors that never quote a token, and which source a run picks.
 *
 * @module
 */

import assert from "node:assert/strict";
import { generateKeyPair, SignJWT } from "jose";
import { ciTokenPlan, obtainToken, type TokenContext, type TokenPlan } from "../lib/kit/oidc.ts";
import { isKind } from "../lib/kit/errors.ts";
import { tempDir } from "./support/temp.ts";
import { startFake } from "./fakes/server.ts";
import { GITHUB_TOKEN_PATH, githubOidcFake } from "./fakes/github_oidc.ts";

function context(): TokenContext & { registered: string[] } {
  const registered: string[] = [];
  return {
    registered,
    sensitive: (value) => registered.push(value),
    requestTimeoutMs: 2000,
    deadline: Date.now() + 10_000,
    signal: new AbortController().signal,
    debug: () => {},
  };
}

async function jwt(expiresIn: number): Promise<string> {
  const { privateKey } = await generateKeyPair("ES256");
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({}).setProtectedHeader({ alg: "ES256" }).setExpirationTime(
    now + expiresIn,
  ).sign(privateKey);
}

Deno.test("oidc: GitHub's endpoint is asked with the bearer token and &audience=, as @actions/core does", async () => {
  const github = await githubOidcFake();
  const server = startFake(github.handler);
  try {
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(server.url),
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
    };
    const plan = ciTokenPlan({ env }, "sts.amazonaws.com", "AWS web identity")!;
    assert.equal(plan.kind, "github");
    const ctx = context();
    const token = await obtainToken(plan, ctx);
    assert.deepEqual(github.issued, [token]);
    assert.deepEqual(server.log, [
      `GET ${GITHUB_TOKEN_PATH}?api-version=2.0&audience=sts.amazonaws.com`,
    ]);
    assert.ok(ctx.registered.includes(github.requestToken) && ctx.registered.includes(token));
    // SECRETS_OIDC_AUDIENCE overrides the backend's default (and is encoded).
    const custom = ciTokenPlan(
      { env: { ...env, SECRETS_OIDC_AUDIENCE: "api://Azure AD" } },
      "api://AzureADTokenExchange",
      "Azure",
    )!;
    await obtainToken(custom, context());
    assert.equal(github.audiences.at(-1), "api://Azure AD");
    assert.match(server.log.at(-1)!, /&audience=api%3A%2F%2FAzure%20AD$/);
  } finally {
    await server.close();
  }
});

Deno.test("oidc: a refused bearer token is an auth error naming the host and the fix, never the token", async () => {
  const github = await githubOidcFake();
  const server = startFake(github.handler);
  try {
    const plan: TokenPlan = {
      kind: "github",
      url: github.requestUrl(server.url),
      requestToken: "ghs_not-the-right-one",
      audience: "sts.amazonaws.com",
      source: "GitHub",
    };
    await assert.rejects(obtainToken(plan, context()), (error: Error) => {
      assert.ok(isKind(error, "auth"));
      assert.match(
        error.message,
        /refused \(HTTP 401\); give the job `permissions: id-token: write`/,
      );
      assert.ok(!error.message.includes("ghs_not-the-right-one"));
      return true;
    });
    assert.equal(github.refused, 1);
  } finally {
    await server.close();
  }
});

Deno.test("oidc: an answer without a value, not JSON or of a megabyte is a backend error; an expired token an auth error", async () => {
  const expired = await jwt(-10);
  const answers = [
    new Response("{}", { status: 200 }),
    new Response("<html>", { status: 200 }),
    new Response("x".repeat(1 << 20), { status: 200 }),
    Response.json({ value: expired }),
  ];
  const server = startFake(() => answers.shift()!);
  try {
    const plan: TokenPlan = {
      kind: "github",
      url: `${server.url}/idtoken?api-version=2.0`,
      requestToken: "t",
      audience: "a",
      source: "GitHub Actions' OIDC token endpoint (audience a)",
    };
    const kinds = [];
    for (let i = 0; i < 4; i++) {
      kinds.push(
        await obtainToken(plan, context()).then(() => "ok", (e) => (e as { kind: string }).kind),
      );
    }
    assert.deepEqual(kinds, ["backend", "backend", "backend", "auth"]);
  } finally {
    await server.close();
  }
});

Deno.test("oidc: SECRETS_OIDC_TOKEN wins over GitHub's endpoint and is checked at once; neither gives undefined", async () => {
  const fresh = await jwt(300);
  const github = {
    ACTIONS_ID_TOKEN_REQUEST_URL:
      "https://pipelines.actions.githubusercontent.com/x?api-version=2.0",
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t",
  };
  assert.deepEqual(ciTokenPlan({ env: { ...github, SECRETS_OIDC_TOKEN: fresh } }, "a", "x"), {
    kind: "env",
    token: fresh,
    source: "SECRETS_OIDC_TOKEN",
  });
  assert.equal(ciTokenPlan({ env: github }, "a", "x")?.kind, "github");
  assert.equal(ciTokenPlan({ env: {} }, "a", "x"), undefined);
  assert.equal(
    ciTokenPlan(
      { env: { ACTIONS_ID_TOKEN_REQUEST_URL: github.ACTIONS_ID_TOKEN_REQUEST_URL } },
      "a",
      "x",
    ),
    undefined,
  );
  const expired = await jwt(-10);
  assert.throws(
    () => ciTokenPlan({ env: { SECRETS_OIDC_TOKEN: expired } }, "a", "x"),
    (error: Error) => isKind(error, "auth") && !error.message.includes(expired),
  );
  assert.throws(
    () => ciTokenPlan({ env: github }, undefined, "HashiCorp Vault JWT login"),
    /needs SECRETS_OIDC_AUDIENCE/,
  );
});

Deno.test("oidc: a token file may hold an opaque token, but a JWT in it that has expired fails", async () => {
  await using tmp = await tempDir();
  const { dir } = tmp;
  await Deno.writeTextFile(`${dir}/opaque`, "opaque-token\n");
  await Deno.writeTextFile(`${dir}/expired`, await jwt(-10));
  const file = (name: string): TokenPlan => ({ kind: "file", path: `${dir}/${name}`, source: "F" });
  assert.equal(await obtainToken(file("opaque"), context()), "opaque-token");
  await assert.rejects(obtainToken(file("expired"), context()), /the JWT in F .*expired/);
  await assert.rejects(obtainToken(file("missing"), context()), /F .*missing cannot be read/);
});
