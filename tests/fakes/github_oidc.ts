/**
 * A fake GitHub Actions OIDC token endpoint, as the runner exposes it to a job with
 * `permissions: id-token: write`: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD` with
 * `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN` answers `{"count":…,"value":"<jwt>"}`;
 * a missing or wrong bearer token is 401. Tokens are ES256 JWTs from issuer
 * `https://token.actions.githubusercontent.com` with the audience asked for (the
 * repository owner's URL when none is), signed with a key whose public half the fakes of
 * the services that trust GitHub are given.
 *
 * @module
 */

import { generateKeyPair, SignJWT } from "jose";
import type { FakeHandler } from "./server.ts";

/** GitHub's OIDC issuer. */
export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
/** The subject of the fake's tokens: a workflow on the main branch. */
export const GITHUB_SUBJECT = "repo:octo-org/octo-repo:ref:refs/heads/main";
/** The path of the fake's endpoint; the URL the runner sets carries an api-version query. */
export const GITHUB_TOKEN_PATH = "/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/idtoken";

/** Options of the fake. */
export interface GithubOidcOptions {
  /** Lifetime of issued tokens in seconds (default 300, as GitHub's). */
  lifetimeSeconds?: number;
}

/** A GitHub OIDC fake. */
export interface GithubOidcFake {
  /** The request handler. */
  handler: FakeHandler;
  /** The bearer token the job must send (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`). */
  requestToken: string;
  /** The key that verifies issued tokens. */
  publicKey: CryptoKey;
  /** Audiences asked for, one per issued token, in order. */
  audiences: string[];
  /** Tokens issued (for leak checks). */
  issued: string[];
  /** Requests refused (bad bearer token, bad path). */
  refused: number;
  /** `ACTIONS_ID_TOKEN_REQUEST_URL` for a fake listening at `base`. */
  requestUrl(base: string): string;
}

/** Create the fake. */
export async function githubOidcFake(options: GithubOidcOptions = {}): Promise<GithubOidcFake> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const requestToken = `ghs_${crypto.randomUUID().replaceAll("-", "")}`;
  const fake: GithubOidcFake = {
    requestToken,
    publicKey,
    audiences: [],
    issued: [],
    refused: 0,
    requestUrl: (base) => `${base}${GITHUB_TOKEN_PATH}?api-version=2.0`,
    async handler(request) {
      const url = new URL(request.url);
      if (request.method !== "GET" || url.pathname !== GITHUB_TOKEN_PATH) {
        fake.refused++;
        return Response.json({ message: "Not Found" }, { status: 404 });
      }
      if (request.headers.get("authorization") !== `Bearer ${requestToken}`) {
        fake.refused++;
        return Response.json({ message: "Unauthorized" }, { status: 401 });
      }
      if (url.searchParams.getAll("audience").length > 1) {
        fake.refused++;
        return Response.json({ message: "Bad Request" }, { status: 400 });
      }
      const audience = url.searchParams.get("audience") ?? "https://github.com/octo-org";
      const now = Math.floor(Date.now() / 1000);
      const value = await new SignJWT({
        repository: "octo-org/octo-repo",
        repository_owner: "octo-org",
        ref: "refs/heads/main",
        event_name: "push",
        job_workflow_ref: "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main",
      })
        .setProtectedHeader({ alg: "ES256", kid: "fake-github", typ: "JWT" })
        .setIssuer(GITHUB_ISSUER)
        .setSubject(GITHUB_SUBJECT)
        .setAudience(audience)
        .setIssuedAt(now)
        .setNotBefore(now - 5)
        .setExpirationTime(now + (options.lifetimeSeconds ?? 300))
        .setJti(crypto.randomUUID())
        .sign(privateKey);
      fake.audiences.push(audience);
      fake.issued.push(value);
      return Response.json({ count: 1, value });
    },
  };
  return fake;
}
