/**
 * The `AWS_SECRETS_MANAGER` backend's fetch: lists secrets with `ListSecrets` (pages of 100,
 * sorted by name and followed from both ends, `providers/aws/both_ends.ts`) and fetches values
 * with `BatchGetSecretValue` (20 ids a call) concurrently while listing continues, falling
 * back to `GetSecretValue` per secret where the batch call is denied.
 * `SECRETS_SELECTION` names secrets (names or ARNs) fetched exactly; a selector with
 * options (`docs/selectors.md`) is read alone with `GetSecretValue`, since the batch call
 * cannot pin a `VersionId` or `VersionStage`.
 *
 * @module
 */

import { detail, ToolError } from "../../lib/kit/errors.ts";
import { createAdaptiveLimiter, type Limiter } from "../../lib/kit/limiters.ts";
import type { AwsConfig } from "../aws/config.ts";
import { credentialProvider } from "../aws/credentials.ts";
import { isoFromEpoch } from "../../lib/kit/time.ts";
import { followBothEnds } from "../aws/both_ends.ts";
import { quotaGates, SECRETS_MANAGER_QUOTAS } from "../aws/quotas.ts";
import { AwsApiError, AwsAuthError, type JsonClient, jsonClient } from "../aws/json_client.ts";
import type { FetchContext, SecretPick } from "../../lib/contract/provider.ts";
import { hasOptions, parseSelection, type Selector } from "../../lib/kit/selector.ts";

/** Most ids in one `BatchGetSecretValue` call (the API's limit). */
export const BATCH_SIZE = 20;
/** Page size of `ListSecrets` (the API's maximum). */
export const LIST_PAGE_SIZE = 100;

interface ListedSecret {
  Name?: string;
  ARN?: string;
  DeletedDate?: number;
}

interface ListSecretsOutput {
  SecretList?: ListedSecret[];
  NextToken?: string;
}

/**
 * The codes of an answer that rejects `SortBy`/`SortOrder` (an endpoint that predates them,
 * such as an older emulator): the listing then goes on in the service's own order.
 */
const SORT_REJECTED = new Set([
  "ValidationException",
  "InvalidParameterException",
  "SerializationException",
]);

interface SecretValueEntry {
  ARN?: string;
  Name?: string;
  VersionId?: string;
  SecretString?: string;
  SecretBinary?: string;
  CreatedDate?: number;
}

interface BatchOutput {
  SecretValues?: SecretValueEntry[];
  Errors?: { SecretId?: string; ErrorCode?: string; Message?: string }[];
}

/** What fetching one group of secret ids needs. */
interface Fetcher {
  ctx: FetchContext;
  client: JsonClient;
  limiter: Limiter;
  /** Whether the ids came from `SECRETS_SELECTION` (a missing one is then an error). */
  selected: boolean;
  /** Set once `BatchGetSecretValue` is denied: every later group uses `GetSecretValue`. */
  batchDenied: boolean;
  /** Set at the first failure: queued groups then skip their calls. */
  stopped: boolean;
  region: string;
}

/**
 * The `GetSecretValue` fields that pin a selector's version: a VersionId (AWS's are UUIDs,
 * 32 to 64 characters of hex digits and dashes) or else a staging label such as
 * `AWSPREVIOUS`.
 */
export function versionFields(version: string): { VersionId: string } | { VersionStage: string } {
  return /^[0-9A-Fa-f-]{32,64}$/.test(version) && version.replaceAll("-", "").length >= 32
    ? { VersionId: version }
    : { VersionStage: version };
}

function emitValue(
  fetcher: Fetcher,
  entry: SecretValueEntry,
  id: string,
  pick?: SecretPick,
): void {
  const name = entry.Name ?? id;
  const base = {
    name,
    version: entry.VersionId,
    updated: isoFromEpoch(entry.CreatedDate),
    ...(pick ? { pick } : {}),
  };
  if (entry.SecretString !== undefined) {
    fetcher.ctx.emit({ ...base, value: entry.SecretString });
  } else if (entry.SecretBinary !== undefined) {
    fetcher.ctx.log.warn(
      `secret "${name}" is binary (SecretBinary); it is stored base64-encoded under its name`,
    );
    fetcher.ctx.emit({ ...base, value: entry.SecretBinary, encoding: "base64" });
  } else {
    fetcher.ctx.log.warn(`secret "${name}" has no value in its current version; skipped`);
  }
}

function missing(fetcher: Fetcher, id: string, code: string, message: string): void {
  if (code === "InvalidRequestException" && /deletion|deleted/i.test(message)) {
    // A selected secret that cannot be read fails the run, like one that does not exist;
    // one found by listing was merely deleted in the meantime.
    if (fetcher.selected && !fetcher.ctx.settings.allowMissing) {
      throw new ToolError(
        "config",
        `secret "${id}" in SECRETS_SELECTION is scheduled for deletion in AWS Secrets Manager in ${fetcher.region}, so it cannot be read; restore it (aws secretsmanager restore-secret), remove it from the selection, or set SECRETS_ALLOW_MISSING=true to skip it`,
      );
    }
    fetcher.ctx.log.warn(
      `secret "${id}" is scheduled for deletion; skipped${
        fetcher.selected ? " (SECRETS_ALLOW_MISSING)" : ""
      }`,
    );
    return;
  }
  if (code === "ResourceNotFoundException") {
    if (fetcher.selected && fetcher.ctx.settings.allowMissing) {
      fetcher.ctx.log.warn(
        `secret "${id}" in SECRETS_SELECTION does not exist in AWS Secrets Manager in ${fetcher.region}; skipped (SECRETS_ALLOW_MISSING)`,
      );
      return;
    }
    if (fetcher.selected) {
      throw new ToolError(
        "config",
        `secret "${id}" in SECRETS_SELECTION does not exist in AWS Secrets Manager in ${fetcher.region} (or is not visible to these credentials); fix the selection or the region`,
      );
    }
    fetcher.ctx.log.warn(`secret "${id}" disappeared after it was listed; skipped`);
    return;
  }
  if (code === "AccessDeniedException" || code === "DecryptionFailure") {
    throw new AwsAuthError(
      code,
      `AWS Secrets Manager GetSecretValue for "${id}" was refused: ${code}${
        message ? `: ${detail(message)}` : ""
      }; the identity needs secretsmanager:GetSecretValue on it (and kms:Decrypt on its key)`,
    );
  }
  throw new AwsApiError(
    code,
    `AWS Secrets Manager could not read secret "${id}": ${code}${
      message ? `: ${detail(message)}` : ""
    }`,
  );
}

function missingVersion(fetcher: Fetcher, id: string, version: string): void {
  const what =
    `secret "${id}" in SECRETS_SELECTION has no version ${version} in AWS Secrets Manager in ${fetcher.region}`;
  if (fetcher.ctx.settings.allowMissing) {
    fetcher.ctx.log.warn(`${what}; skipped (SECRETS_ALLOW_MISSING)`);
    return;
  }
  throw new ToolError(
    "config",
    `${what}; fix ;version= in SECRETS_SELECTION (a VersionId or a staging label such as AWSCURRENT or AWSPREVIOUS)`,
  );
}

async function getOne(fetcher: Fetcher, id: string, selector?: Selector): Promise<void> {
  const version = selector?.version;
  const pick = selector && hasOptions(selector)
    ? { field: selector.field, key: selector.key }
    : undefined;
  try {
    const input = { SecretId: id, ...(version ? versionFields(version) : {}) };
    const entry = await fetcher.limiter.run(() =>
      fetcher.stopped
        ? Promise.resolve(undefined)
        : fetcher.client.call<SecretValueEntry>("GetSecretValue", input, `"${id}"`)
    );
    if (entry) emitValue(fetcher, entry, id, pick);
  } catch (error) {
    const gone = error instanceof AwsApiError &&
      (error.code === "ResourceNotFoundException" || error.code === "InvalidRequestException");
    // The service says "can't find the specified secret value for VersionId: ..." (or
    // "for staging label: ...") when the secret exists but the pinned version does not.
    if (gone && version && /secret value for/i.test(error.message)) {
      return missingVersion(fetcher, id, version);
    }
    if (gone) return missing(fetcher, id, error.code, error.message);
    throw error;
  }
}

async function fetchGroup(fetcher: Fetcher, ids: string[]): Promise<void> {
  if (!fetcher.batchDenied) {
    try {
      const out = await fetcher.limiter.run(() =>
        fetcher.stopped ? Promise.resolve({} as BatchOutput) : fetcher.client.call<BatchOutput>(
          "BatchGetSecretValue",
          { SecretIdList: ids },
          `${ids.length} secrets from "${ids[0]}"`,
        )
      );
      for (const entry of out.SecretValues ?? []) emitValue(fetcher, entry, entry.Name ?? "");
      for (const error of out.Errors ?? []) {
        missing(fetcher, error.SecretId ?? "?", error.ErrorCode ?? "unknown", error.Message ?? "");
      }
      return;
    } catch (error) {
      if (!(error instanceof AwsAuthError && error.code === "AccessDeniedException")) throw error;
      if (!fetcher.batchDenied) {
        fetcher.batchDenied = true;
        fetcher.ctx.log.info(
          "AWS Secrets Manager: BatchGetSecretValue is denied; fetching each secret with GetSecretValue",
        );
      }
    }
  }
  await Promise.all(ids.map((id) => getOne(fetcher, id)));
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** List and read the selected secrets, handing each to `ctx.emit`. */
export async function fetchSecrets(ctx: FetchContext<AwsConfig>): Promise<void> {
  const { settings, config } = ctx;
  const limiter = createAdaptiveLimiter(config.concurrency);
  const fetcher: Fetcher = {
    ctx,
    client: jsonClient({
      endpoint: config.endpoint,
      service: "secretsmanager",
      targetPrefix: "secretsmanager",
      label: "AWS Secrets Manager",
      region: config.region,
      credentials: credentialProvider(config.source, ctx, config.chain),
      ctx,
      ...quotaGates(SECRETS_MANAGER_QUOTAS, (operation) => operation, limiter),
    }),
    limiter,
    selected: settings.selection.length > 0,
    batchDenied: false,
    stopped: false,
    region: config.region,
  };
  const keep = (name: string) => !settings.filter || name.includes(settings.filter);
  const tasks: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  const start = (ids: string[]) => {
    for (const group of chunks(ids, BATCH_SIZE)) {
      tasks.push(
        fetchGroup(fetcher, group).catch((error) => {
          failure ??= { error };
        }),
      );
    }
  };
  if (fetcher.selected) {
    const selectors = parseSelection(settings.selection).filter((s) => keep(s.name));
    start([...new Set(selectors.filter((s) => !hasOptions(s)).map((s) => s.name))]);
    for (const selector of selectors.filter(hasOptions)) {
      tasks.push(
        getOne(fetcher, selector.name, selector).catch((error) => {
          failure ??= { error };
        }),
      );
    }
  } else {
    let listed = 0;
    // Listing runs outside the limiter so it never queues behind the value fetches, and
    // each round's next pages are requested before its batches are started, so the chain
    // of pages (the floor of a load) never waits for their signing.
    await followBothEnds<ListSecretsOutput, ListedSecret>({
      operation: "AWS Secrets Manager ListSecrets",
      request: (order, token) =>
        fetcher.client.call<ListSecretsOutput>("ListSecrets", {
          MaxResults: LIST_PAGE_SIZE,
          ...(order ? { SortBy: "name", SortOrder: order } : {}),
          ...(token ? { NextToken: token } : {}),
        }),
      entries: (page) => page.SecretList ?? [],
      nameOf: (secret) => secret.Name,
      sortRejected: (error) => error instanceof AwsApiError && SORT_REJECTED.has(error.code),
      fail: (error) => failure ??= { error },
      failed: () => failure !== undefined,
      onEntries(secrets) {
        const names = secrets.filter((s) => s.DeletedDate === undefined).map((s) => s.Name!);
        listed += names.length;
        start(names.filter(keep));
      },
    });
    ctx.log.debug(`AWS Secrets Manager: listed ${listed} secrets`);
  }
  await Promise.all(tasks);
  if (failure) throw failure.error;
}
