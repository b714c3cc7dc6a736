/**
 * The `HASHICORP_VAULT` backend's fetch: log in (or use the token), walk the selected KV
 * folders and read each secret, then revoke a token this run obtained.
 *
 * @module
 */

import type { FetchContext } from "../../lib/contract/provider.ts";
import { fileErrorCause, ToolError } from "../../lib/kit/errors.ts";
import { createAdaptiveLimiter } from "../../lib/kit/limiters.ts";
import { tokenContext } from "../../lib/kit/oidc.ts";
import { schedule } from "../../lib/kit/timers.ts";
import { authenticate, revokeSession, type VaultSession } from "./auth.ts";
import type { VaultConfig } from "./config.ts";
import { createVaultClient } from "./http.ts";
import { type KvContext, walkSelectors } from "./kv.ts";

/** Read every selected secret, handing each to `ctx.emit`. */
export async function fetchSecrets(ctx: FetchContext<VaultConfig>): Promise<void> {
  const { settings, log } = ctx;
  const { config } = ctx;
  let caPem: string | undefined;
  if (config.caCert) {
    try {
      caPem = await Deno.readTextFile(config.caCert);
    } catch (error) {
      throw new ToolError(
        "config",
        `SECRETS_HASHICORP_VAULT_CACERT ${config.caCert} cannot be read (${fileErrorCause(error)})`,
      );
    }
  }
  // The work stops a little before the overall deadline, so that a login token can
  // still be revoked when the run times out.
  const reserve = Math.min(2000, Math.max(0, settings.deadline - Date.now()) * 0.2);
  const workDeadline = settings.deadline - reserve;
  const stop = new AbortController();
  const cancelStop = schedule(workDeadline - Date.now(), () => stop.abort());
  const limiter = createAdaptiveLimiter(config.concurrency);
  const client = createVaultClient({
    url: config.url,
    namespace: config.namespace,
    caPem,
    deadline: workDeadline,
    timeoutMs: settings.requestTimeoutMs,
    signal: AbortSignal.any([ctx.signal, stop.signal]),
    log,
    onThrottle: () => limiter.throttled(),
  });
  let session: VaultSession | undefined;
  try {
    session = await authenticate(client, config.auth, tokenContext(ctx));
    log.debug(`authenticated with ${session.via}`);
    const kv: KvContext = {
      client,
      token: session.token,
      via: session.via,
      version: config.kvVersion,
      limiter,
      log,
      filter: settings.filter,
      allowMissing: settings.allowMissing,
      emit: ctx.emit,
    };
    const count = await walkSelectors(kv, config.selectors);
    log.debug(`read ${count} secrets from ${config.selectors.map((s) => s.text).join(", ")}`);
  } finally {
    cancelStop();
    if (session?.owned) {
      const problem = await revokeSession(client, session, settings.deadline);
      if (problem) log.warn(problem);
      else log.debug("revoked the login token");
    }
    client.close();
  }
}
