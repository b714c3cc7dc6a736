/**
 * The `AWS_PARAMETER_STORE` backend's fetch (SSM Parameter Store). Parameters are listed with
 * `DescribeParameters` (50 a page) and their values read with concurrent `GetParameters`
 * calls (10 names each, decrypted), which measured faster than paging
 * `GetParametersByPath` (10 a page, strictly sequential).
 * `GetParametersByPath` is used for a path selection when `ssm:DescribeParameters` is
 * denied. A selector with `;version=` (`docs/selectors.md`) names one parameter exactly and
 * is read with `GetParameters` as `NAME:VERSION` or `NAME:LABEL`, the API's own selector.
 *
 * @module
 */

import { ToolError } from "../../lib/kit/errors.ts";
import { createAdaptiveLimiter, type Limiter } from "../../lib/kit/limiters.ts";
import type { SsmConfig } from "./mod.ts";
import { credentialProvider } from "../aws/credentials.ts";
import { isoFromEpoch } from "../../lib/kit/time.ts";
import { pageTokens } from "../../lib/kit/paging.ts";
import { followPages } from "../aws/pages.ts";
import { quotaGates, SSM_QUOTAS } from "../aws/quotas.ts";
import { AwsAuthError, type JsonClient, jsonClient } from "../aws/json_client.ts";
import type { FetchContext, SecretPick } from "../../lib/contract/provider.ts";
import { optionsKey, parseSelection, type Selector } from "../../lib/kit/selector.ts";

/** Page size of `GetParametersByPath` (the API's maximum). */
export const BY_PATH_PAGE_SIZE = 10;
/** Page size of `DescribeParameters` (the API's maximum). */
export const DESCRIBE_PAGE_SIZE = 50;
/** Most names in one `GetParameters` call (the API's limit). */
export const GET_BATCH_SIZE = 10;

/** One parameter as SSM returns it. */
export interface SsmParameter {
  Name?: string;
  Type?: string;
  Value?: string;
  Version?: number;
  LastModifiedDate?: number;
  /** The `:version` or `:label` the parameter was asked for with, when it was. */
  Selector?: string;
}

interface GetParametersOutput {
  Parameters?: SsmParameter[];
  InvalidParameters?: string[];
}

/** What a listing strategy needs. */
export interface SsmSession {
  /** The fetch context. */
  ctx: FetchContext;
  /** The SSM client. */
  client: JsonClient;
  /** Bounds the concurrent `GetParameters` calls. */
  limiter: Limiter;
  /** Called with each parameter that has a value. */
  emit(parameter: SsmParameter): void;
}

/** A `ParameterFilters` entry of `DescribeParameters`. */
export interface ParameterFilter {
  Key: string;
  Option?: string;
  Values: string[];
}

/** The filter selecting one selector: a path (`/a/b`) recursively, else a name prefix. */
export function selectorFilter(selector: string): ParameterFilter {
  if (selector.startsWith("/")) {
    const path = selector.length > 1 ? selector.replace(/\/+$/, "") : selector;
    return { Key: "Path", Option: "Recursive", Values: [path || "/"] };
  }
  return { Key: "Name", Option: "BeginsWith", Values: [selector] };
}

/**
 * Page through `GetParametersByPath` (recursive, decrypted, 10 a page). Each page needs
 * the previous page's token, so the round trips are strictly sequential.
 */
export async function readByPath(session: SsmSession, path: string): Promise<void> {
  let token: string | undefined;
  const normalized = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const pages = pageTokens(`AWS SSM GetParametersByPath for path ${normalized}`, "NextToken");
  do {
    const page = await session.client.call<{ Parameters?: SsmParameter[]; NextToken?: string }>(
      "GetParametersByPath",
      {
        Path: normalized,
        Recursive: true,
        WithDecryption: true,
        MaxResults: BY_PATH_PAGE_SIZE,
        ...(token ? { NextToken: token } : {}),
      },
      `path ${normalized}`,
    );
    pages.count(page.Parameters?.length ?? 0);
    for (const parameter of page.Parameters ?? []) session.emit(parameter);
    token = page.NextToken || undefined;
    if (token) pages.follow(token);
  } while (token);
}

/**
 * Page through `DescribeParameters` (50 names a page) and read the values with
 * `GetParameters` (10 names a call), concurrently while the listing continues.
 */
export async function readByDescribe(
  session: SsmSession,
  filters: ParameterFilter[],
  keep: (name: string) => boolean = () => true,
): Promise<void> {
  const tasks: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  type Page = { Parameters?: { Name?: string }[]; NextToken?: string };
  // The next page is requested before this page's reads start, so the chain of pages
  // never waits for their signing.
  const describe = (token?: string) =>
    session.client.call<Page>("DescribeParameters", {
      MaxResults: DESCRIBE_PAGE_SIZE,
      ...(filters.length > 0 ? { ParameterFilters: filters } : {}),
      ...(token ? { NextToken: token } : {}),
    });
  await followPages<Page>({
    operation: "AWS SSM DescribeParameters",
    request: describe,
    entries: (page) => page.Parameters?.length ?? 0,
    fail: (error) => failure ??= { error },
    failed: () => failure !== undefined,
    onPage(page) {
      const names = (page.Parameters ?? []).map((p) => p.Name).filter((n): n is string =>
        n !== undefined && keep(n)
      );
      for (let i = 0; i < names.length; i += GET_BATCH_SIZE) {
        const group = names.slice(i, i + GET_BATCH_SIZE);
        tasks.push(
          session.limiter.run((): Promise<GetParametersOutput> =>
            failure ? Promise.resolve({}) : session.client.call<GetParametersOutput>(
              "GetParameters",
              { Names: group, WithDecryption: true },
              `${group.length} parameters from ${group[0]}`,
            )
          ).then((out) => {
            for (const parameter of out.Parameters ?? []) session.emit(parameter);
            for (const name of out.InvalidParameters ?? []) {
              session.ctx.log.warn(`parameter ${name} disappeared after it was listed; skipped`);
            }
          }).catch((error) => {
            failure ??= { error };
          }),
        );
      }
    },
  });
  await Promise.all(tasks);
  if (failure) throw failure.error;
}

/** List and read the selected parameters, handing each to `ctx.emit`. */
export async function fetchSecrets(ctx: FetchContext<SsmConfig>): Promise<void> {
  const { settings } = ctx;
  const seen = new Set<string>();
  let hits = 0; // parameters matched, overlapping selectors included
  const keep = (name: string) => !settings.filter || name.includes(settings.filter);
  const limiter = createAdaptiveLimiter(ctx.config.concurrency);
  // The selector being read: its options go with each parameter it matches.
  let active: Selector | undefined;
  const pickOf = (selector: Selector | undefined): SecretPick | undefined =>
    selector && (selector.field !== undefined || selector.key !== undefined)
      ? { field: selector.field, key: selector.key }
      : undefined;
  const session: SsmSession = {
    ctx,
    client: jsonClient({
      endpoint: ctx.config.endpoint,
      service: "ssm",
      targetPrefix: "AmazonSSM",
      label: "AWS SSM",
      region: ctx.config.region,
      credentials: credentialProvider(ctx.config.source, ctx, ctx.config.chain),
      ctx,
      ...quotaGates(
        SSM_QUOTAS[ctx.config.throughput].quotas,
        SSM_QUOTAS[ctx.config.throughput].quotaOf,
        limiter,
      ),
    }),
    limiter,
    emit(parameter) {
      const name = parameter.Name;
      if (name === undefined || parameter.Value === undefined) return;
      if (!keep(name)) return;
      hits++;
      // Selectors of one name with different options each load it (say, two versions).
      const identity = `${name}\0${active ? optionsKey(active) : ""}`;
      if (seen.has(identity)) return;
      seen.add(identity);
      const pick = pickOf(active);
      ctx.emit({
        name,
        value: parameter.Value,
        version: parameter.Version === undefined ? undefined : String(parameter.Version),
        updated: isoFromEpoch(parameter.LastModifiedDate),
        ...(pick ? { pick } : {}),
      });
    },
  };
  if (settings.selection.length === 0) {
    await readByDescribe(session, [], keep);
    return;
  }
  const unique = new Map<string, Selector>();
  for (const selector of parseSelection(settings.selection)) {
    unique.set(`${selector.name}\0${optionsKey(selector)}`, selector);
  }
  let describeDenied = false;
  for (const parsed of unique.values()) {
    active = parsed;
    const selector = parsed.name;
    const before = hits;
    if (parsed.version !== undefined) {
      await readPinned(parsed, parsed.version);
      continue;
    }
    // With ;field= or ;key=, a selector naming one parameter exactly reads just that one
    // (a path selector, as before, would match only the parameters below it).
    if (pickOf(parsed) && !selector.endsWith("/") && await readExact(parsed)) continue;
    await readSelector(selector);
    if (hits > before || settings.filter) continue;
    if (settings.allowMissing) {
      ctx.log.warn(
        `SECRETS_SELECTION entry "${selector}" matches no parameter; skipped (SECRETS_ALLOW_MISSING)`,
      );
      continue;
    }
    throw new ToolError(
      "config",
      `SECRETS_SELECTION entry "${selector}" matches no parameter in AWS SSM Parameter Store (or none visible to these credentials); fix the selection or the region, or set SECRETS_ALLOW_MISSING=1`,
    );
  }

  /** Read one parameter by its exact name (with a `:VERSION` selector); whether it exists. */
  async function readExact(selector: Selector, version?: string): Promise<boolean> {
    const asked = version === undefined ? selector.name : `${selector.name}:${version}`;
    const out = await session.limiter.run(() =>
      session.client.call<GetParametersOutput>(
        "GetParameters",
        { Names: [asked], WithDecryption: true },
        asked,
      )
    );
    for (const parameter of out.Parameters ?? []) session.emit(parameter);
    return (out.Parameters ?? []).length > 0;
  }

  /** One parameter at one version or label: `GetParameters` with `NAME:VERSION`. */
  async function readPinned(selector: Selector, version: string): Promise<void> {
    if (!keep(selector.name)) return;
    if (await readExact(selector, version)) return;
    const what =
      `parameter ${selector.name} in SECRETS_SELECTION has no version or label ${version} in AWS SSM Parameter Store (or does not exist)`;
    if (settings.allowMissing) {
      ctx.log.warn(`${what}; skipped (SECRETS_ALLOW_MISSING)`);
      return;
    }
    throw new ToolError(
      "config",
      `${what}; fix ;version= in SECRETS_SELECTION (a version number or a label)`,
    );
  }

  async function readSelector(selector: string): Promise<void> {
    if (!describeDenied) {
      try {
        await readByDescribe(session, [selectorFilter(selector)], keep);
        return;
      } catch (error) {
        const denied = error instanceof AwsAuthError && error.code === "AccessDeniedException" &&
          error.message.includes("DescribeParameters");
        if (!denied || !selector.startsWith("/")) throw error;
        describeDenied = true;
        ctx.log.info(
          "AWS SSM: DescribeParameters is denied; reading paths with GetParametersByPath",
        );
      }
    }
    if (!selector.startsWith("/")) {
      throw new AwsAuthError(
        "AccessDeniedException",
        `AWS SSM: selector "${selector}" is a name prefix, which needs ssm:DescribeParameters (denied); grant it or select paths starting with /`,
      );
    }
    await readByPath(session, selector);
  }
}
