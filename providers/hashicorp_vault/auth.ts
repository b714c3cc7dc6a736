/**
 * Vault authentication: JWT (a variable, `SECRETS_OIDC_TOKEN` or GitHub Actions' token
 * endpoint), Kubernetes, AppRole, token or userpass; a local check of a JWT before it is
 * sent; revoking a token this run obtained.
 *
 * @module
 */

import { ToolError } from "../../lib/kit/errors.ts";
import { obtainToken, type TokenContext } from "../../lib/kit/oidc.ts";
import type { VaultAuth } from "./config.ts";
import { type VaultClient, vaultErrors } from "./http.ts";

/** A token to use, and whether this run created it (and so must revoke it). */
export interface VaultSession {
  /** The client token. */
  token: string;
  /** True when obtained by login: revoke it at the end. */
  owned: boolean;
  /** How it was obtained, for messages. */
  via: string;
}

/** Log in at `path`; the token it gives is registered with `sensitive` at once. */
async function loginRequest(
  client: VaultClient,
  path: string,
  body: Record<string, string>,
  what: string,
  sensitive: (value: string) => void,
): Promise<VaultSession> {
  const { status, body: answer } = await client.request("POST", path, { body });
  if (status === 200) {
    const token = answer?.auth?.client_token;
    if (typeof token !== "string" || token === "") {
      throw new ToolError("backend", `${what}: Vault answered without auth.client_token`);
    }
    sensitive(token);
    return { token, owned: true, via: what };
  }
  if (status === 400 || status === 401 || status === 403) {
    throw new ToolError("auth", `${what} was refused (HTTP ${status}): ${vaultErrors(answer)}`);
  }
  if (status === 404) {
    throw new ToolError(
      "config",
      `${what}: no such auth method at ${
        path.replace(/\/login.*$/, "")
      } (HTTP 404); check the auth mount and the namespace`,
    );
  }
  throw new ToolError("backend", `${what}: unexpected HTTP ${status}`);
}

/**
 * Obtain a token: log in (JWT, Kubernetes, AppRole, userpass) or use the supplied token.
 * Every credential is handed to `tokens.sensitive` before any request.
 */
export async function authenticate(
  client: VaultClient,
  auth: VaultAuth,
  tokens: TokenContext,
): Promise<VaultSession> {
  const sensitive = tokens.sensitive;
  switch (auth.method) {
    case "token":
      sensitive(auth.token);
      return { token: auth.token, owned: false, via: `the token in ${auth.source}` };
    case "jwt": {
      const jwt = await obtainToken(auth.token, tokens);
      return await loginRequest(
        client,
        `auth/${auth.mount}/login`,
        { role: auth.role, jwt },
        `JWT login (auth/${auth.mount}, role ${auth.role}, token from ${auth.source})`,
        sensitive,
      );
    }
    case "kubernetes": {
      const source = "SECRETS_HASHICORP_VAULT_KUBERNETES_TOKEN_FILE";
      const jwt = await obtainToken({ kind: "file", path: auth.tokenFile, source }, tokens);
      return await loginRequest(
        client,
        `auth/${auth.mount}/login`,
        { role: auth.role, jwt },
        `Kubernetes login (auth/${auth.mount}, role ${auth.role}, service-account token ${auth.tokenFile})`,
        sensitive,
      );
    }
    case "approle": {
      sensitive(auth.secretId);
      return await loginRequest(
        client,
        `auth/${auth.mount}/login`,
        { role_id: auth.roleId, secret_id: auth.secretId },
        `AppRole login (auth/${auth.mount}, role id from SECRETS_HASHICORP_VAULT_ROLE_ID)`,
        sensitive,
      );
    }
    case "userpass": {
      sensitive(auth.password);
      return await loginRequest(
        client,
        `auth/userpass/login/${encodeURIComponent(auth.username)}`,
        { password: auth.password },
        `userpass login for ${auth.username}`,
        sensitive,
      );
    }
  }
}

/**
 * Revoke a token this run obtained (`auth/token/revoke-self`), by `deadline` (epoch ms; at
 * least half a second is allowed). Never throws: a failure becomes the returned message,
 * for a warning line.
 */
export async function revokeSession(
  client: VaultClient,
  session: VaultSession,
  deadline: number,
): Promise<string | undefined> {
  if (!session.owned) return undefined;
  try {
    const { status } = await client.request("POST", "auth/token/revoke-self", {
      token: session.token,
      attempts: 3,
      deadline: Math.max(deadline, Date.now() + 500),
    });
    if (status === 204 || status === 200) return undefined;
    return `revoking the login token failed (HTTP ${status}); it expires with its TTL`;
  } catch (error) {
    return `revoking the login token failed (${
      error instanceof Error ? error.message : error
    }); it expires with its TTL`;
  }
}
