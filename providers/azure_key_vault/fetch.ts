/**
 * The `AZURE_KEY_VAULT` backend's fetch: lists and reads secrets through the Key Vault REST API
 * (data-plane api-version {@linkcode KEY_VAULT_API_VERSION}) with a Microsoft Entra token
 * from a managed identity or a service principal. No Azure SDK.

 *
 * @module
 */

import { ToolError } from "../../lib/kit/errors.ts";
import { isoFromEpoch } from "../../lib/kit/time.ts";
import {
  createAdaptiveLimiter,
  createRateGate,
  forEachConcurrent,
  readAhead,
} from "../../lib/kit/limiters.ts";
import { tokenCache } from "../azure/auth.ts";
import {
  getSecret,
  KEY_VAULT_QUOTA,
  type KeyVaultClient,
  listSecrets,
  type SecretAttributes,
  type SecretItem,
} from "./client.ts";
import { type AzurePlan, describeAuth, KEY_VAULT_API_VERSION } from "../azure/settings.ts";
import type { FetchContext } from "../../lib/contract/provider.ts";
import { optionsKey, parseSelection, type Selector } from "../../lib/kit/selector.ts";

function warnExpired(ctx: FetchContext, name: string, attributes: SecretAttributes): void {
  if (attributes.exp !== undefined && attributes.exp * 1000 < Date.now()) {
    ctx.log.warn(
      `secret "${name}" expired at ${isoFromEpoch(attributes.exp)}; loading it anyway, rotate it`,
    );
  }
}

/** Read one value (the current version, or `version`) through the client's adaptive limiter. */
function read(client: KeyVaultClient, name: string, version?: string) {
  return client.limiter
    ? client.limiter.run(() => getSecret(client, name, version))
    : getSecret(client, name, version);
}

async function fetchAll(ctx: FetchContext, client: KeyVaultClient, limit: number) {
  const { filter } = ctx.settings;
  let listed = 0;
  let skipped = 0;
  async function* enabled(): AsyncGenerator<SecretItem> {
    for await (const item of listSecrets(client)) {
      listed++;
      if (filter && !item.name.includes(filter)) continue;
      if (item.attributes.enabled === false) {
        skipped++;
        ctx.log.warn(`secret "${item.name}" is disabled in Key Vault; skipped`);
        continue;
      }
      warnExpired(ctx, item.name, item.attributes);
      yield item;
    }
  }
  let fetched = 0;
  // The list pages run ahead of the reads (up to four rounds of them), so the chain of
  // pages, the floor of a load, never waits for a free read slot.
  await forEachConcurrent(readAhead(enabled(), 4 * limit), limit, async (item) => {
    const result = await read(client, item.name);
    if (result.kind === "missing") {
      ctx.log.warn(`secret "${item.name}" was deleted while loading; skipped`);
      return;
    }
    if (result.kind === "refused") {
      skipped++;
      ctx.log.warn(`secret "${item.name}" ${result.reason} in Key Vault; skipped`);
      return;
    }
    fetched++;
    ctx.emit({
      name: item.name,
      value: result.value,
      version: result.version,
      updated: isoFromEpoch(result.attributes.updated),
    });
  });
  ctx.log.debug(`listed ${listed} secrets, fetched ${fetched}, skipped ${skipped} unreadable`);
}

async function fetchSelected(ctx: FetchContext, client: KeyVaultClient, limit: number) {
  const { filter, selection } = ctx.settings;
  const unique = new Map<string, Selector>();
  for (const selector of parseSelection(selection)) {
    if (!filter || selector.name.includes(filter)) {
      unique.set(`${selector.name}\0${optionsKey(selector)}`, selector);
    }
  }
  const missing: string[] = [];
  const refused: string[] = [];
  await forEachConcurrent([...unique.values()], limit, async (selector) => {
    const { name, version } = selector;
    const result = await read(client, name, version);
    if (result.kind === "missing") {
      missing.push(version === undefined ? `"${name}"` : `"${name}" version ${version}`);
      return;
    }
    if (result.kind === "refused") {
      refused.push(`"${name}" ${result.reason}`);
      return;
    }
    warnExpired(ctx, name, result.attributes);
    const pick = selector.field !== undefined || selector.key !== undefined
      ? { field: selector.field, key: selector.key }
      : undefined;
    ctx.emit({
      name,
      value: result.value,
      version: result.version,
      updated: isoFromEpoch(result.attributes.updated),
      ...(pick ? { pick } : {}),
    });
  });
  if (ctx.settings.allowMissing) {
    for (const name of missing.sort()) {
      ctx.log.warn(
        `secret ${name} in SECRETS_SELECTION does not exist in Key Vault ${client.vault.host}; skipped (SECRETS_ALLOW_MISSING)`,
      );
    }
    missing.length = 0;
  }
  const problems = [
    ...missing.sort().map((name) => `${name} does not exist`),
    ...refused.sort(),
  ];
  if (problems.length > 0) {
    throw new ToolError(
      "config",
      `SECRETS_SELECTION: in Key Vault ${client.vault.host}, ${
        problems.join(", ")
      }; fix the names in SECRETS_SELECTION or the secrets in the vault`,
    );
  }
}

/** List (or take the selected) secrets and read each, handing it to `ctx.emit`. */
export async function fetchSecrets(ctx: FetchContext<AzurePlan>): Promise<void> {
  const plan = ctx.config;
  const tokens = tokenCache(plan, ctx);
  const client: KeyVaultClient = {
    vault: new URL(plan.vault),
    tokens,
    ctx,
    gate: createRateGate(KEY_VAULT_QUOTA),
    limiter: createAdaptiveLimiter(plan.concurrency),
  };
  ctx.log.info(
    `Azure Key Vault ${new URL(plan.vault).host} (api-version ${KEY_VAULT_API_VERSION}) as ${
      describeAuth(plan.auth)
    }`,
  );
  if (ctx.settings.selection.length > 0) {
    await fetchSelected(ctx, client, plan.concurrency);
  } else {
    await fetchAll(ctx, client, plan.concurrency);
  }
  ctx.log.debug(`Azure tokens requested: ${tokens.requests}`);
}
