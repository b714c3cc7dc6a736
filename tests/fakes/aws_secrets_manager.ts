/**
 * A fake AWS Secrets Manager (JSON 1.1, target prefix `secretsmanager`) following the API
 * reference: `ListSecrets` (MaxResults 1-100, `NextToken`, `name` filters, secrets
 * scheduled for deletion hidden unless `IncludePlannedDeletion`, `SortBy` (`created-date`
 * when absent, `last-changed-date`, `last-accessed-date`, `name`) and `SortOrder` (`asc`,
 * assumed when absent, or `desc`), a NextToken valid only for the order it was given in),
 * `BatchGetSecretValue`
 * (`SecretIdList` of 1-20 names or ARNs, per-secret `Errors`, always the `AWSCURRENT`
 * version), `GetSecretValue` (optionally pinned with `VersionId` and/or `VersionStage`).
 * Secrets keep versions as the service does: each has a UUID `VersionId` and staging labels;
 * a rotation makes the new version `AWSCURRENT` and moves `AWSPREVIOUS` to the version that
 * was current; a label is on at most one version. Every request's SigV4 signature is
 * verified against the key store.
 *
 * @module
 */

import {
  denied,
  type FakeKeyStore,
  type Fault,
  jsonError,
  jsonFront,
  jsonOk,
  type JsonServiceOptions,
  pageToken,
  readPageToken,
  validation,
} from "./aws_sigv4.ts";

/** One seeded secret. */
export interface FakeSecret {
  /** Its name. */
  name: string;
  /** A SecretString. */
  string?: string;
  /** A SecretBinary (raw bytes). */
  binary?: Uint8Array;
  /** Scheduled for deletion. */
  deleted?: boolean;
  /** Older SecretString values, oldest first: the last is `AWSPREVIOUS`, the rest unlabelled. */
  history?: string[];
}

/** One version of a secret as the fake keeps it. */
interface FakeVersion {
  id: string;
  string?: string;
  binary?: Uint8Array;
  stages: string[];
  created: number;
}

/** Options of the Secrets Manager fake. */
export interface SecretsManagerFakeOptions extends JsonServiceOptions {
  /** Most secrets per ListSecrets page regardless of MaxResults (default 100). */
  pageSize?: number;
  /** Secret names whose values this identity may not read (GetSecretValue denied). */
  denySecrets?: Iterable<string>;
  /**
   * A hostile server: every ListSecrets page lists this many made-up names (beyond the
   * documented 100) and a fresh NextToken, without end.
   */
  endlessPages?: number;
  /**
   * How the fake treats `SortBy`/`SortOrder`: `honored` (default), `ignored` (an endpoint
   * that lists in its own order whatever is asked), or `rejected` (one that refuses them).
   */
  sortFields?: "honored" | "ignored" | "rejected";
  /** How `SortBy: name` compares names: by UTF-16 code unit (default) or ignoring case. */
  collation?: "binary" | "case-insensitive";
}

/** One ListSecrets request as the fake saw it. */
export interface ListRequest {
  /** `SortBy` as sent. */
  sortBy?: unknown;
  /** `SortOrder` as sent. */
  sortOrder?: unknown;
  /** Whether it followed a NextToken. */
  token: boolean;
}

/** The fake: its handler for `startFake`, counters, and fault injection. */
export interface SecretsManagerFake {
  /** The request handler. */
  handler: (request: Request) => Promise<Response>;
  /** Successful-signature calls by operation. */
  calls: Map<string, number>;
  /** Operations in the order their requests arrived (after signature checks). */
  order: string[];
  /** The ListSecrets requests, in the order they arrived. */
  listings: ListRequest[];
  /** Faults answered to the next requests, in order (throttling, 5xx). */
  faults: Fault[];
  /** The ARN of a seeded secret. */
  arn(name: string): string;
  /** The VersionId that carries `stage` (default `AWSCURRENT`) of a secret, if any. */
  versionId(name: string, stage?: string): string | undefined;
  /** Rotate: a new `AWSCURRENT` version; the old current becomes `AWSPREVIOUS`. */
  rotate(name: string, value: string): string;
  /** Move a staging label to a version (as `UpdateSecretVersionStage` does). */
  label(name: string, stage: string, versionId: string): void;
}

const OPERATIONS = ["ListSecrets", "BatchGetSecretValue", "GetSecretValue"] as const;
const SORT_BY = ["created-date", "last-accessed-date", "last-changed-date", "name"];

/** Create a Secrets Manager fake over `secrets`, accepting keys from `keys`. */
export function secretsManagerFake(
  secrets: readonly FakeSecret[],
  keys: FakeKeyStore,
  options: SecretsManagerFakeOptions = {},
): SecretsManagerFake {
  const region = options.region ?? "eu-west-2";
  const deny = new Set(options.deny ?? []);
  const denySecrets = new Set(options.denySecrets ?? []);
  const calls = new Map<string, number>();
  const order: string[] = [];
  const listings: ListRequest[] = [];
  const faults: Fault[] = [];
  const sorted = [...secrets].sort((a, b) => a.name < b.name ? -1 : 1);
  // Created in the order given, a second apart, so CreatedDate orders them as seeded.
  const createdAt = new Map(secrets.map((s, i) => [s.name, i]));
  const arns = new Map<string, string>();
  const created = Date.now() / 1000 - 3600;
  for (const secret of sorted) {
    const suffix = Array.from(secret.name).reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
      .toString(36).padStart(6, "x").slice(0, 6);
    arns.set(
      secret.name,
      `arn:aws:secretsmanager:${region}:123456789012:secret:${secret.name}-${suffix}`,
    );
  }
  const versions = new Map<string, FakeVersion[]>();
  for (const secret of sorted) {
    const history = secret.history ?? [];
    const list: FakeVersion[] = history.map((string, i) => ({
      id: crypto.randomUUID(),
      string,
      stages: i === history.length - 1 ? ["AWSPREVIOUS"] : [],
      created: created - 60 * (history.length - i),
    }));
    list.push({
      id: crypto.randomUUID(),
      string: secret.string,
      binary: secret.binary,
      stages: ["AWSCURRENT"],
      created,
    });
    versions.set(secret.name, list);
  }
  const find = (id: string) => sorted.find((s) => s.name === id || arns.get(s.name) === id);
  const valueOf = (secret: FakeSecret, version: FakeVersion) => ({
    ARN: arns.get(secret.name),
    Name: secret.name,
    VersionId: version.id,
    ...(version.string !== undefined ? { SecretString: version.string } : {}),
    ...(version.binary !== undefined
      ? { SecretBinary: btoa(String.fromCharCode(...version.binary)) }
      : {}),
    VersionStages: [...version.stages],
    CreatedDate: version.created,
  });
  const current = (secret: FakeSecret) =>
    versions.get(secret.name)!.find((v) => v.stages.includes("AWSCURRENT"))!;
  const stagesOf = (secret: FakeSecret) =>
    Object.fromEntries(
      versions.get(secret.name)!.filter((v) => v.stages.length > 0).map((v) => [v.id, v.stages]),
    );
  const moveLabel = (name: string, stage: string, to: FakeVersion) => {
    for (const version of versions.get(name)!) {
      version.stages = version.stages.filter((s) => s !== stage);
    }
    to.stages.push(stage);
  };
  const notFound = "Secrets Manager can't find the specified secret.";
  const deleted =
    "You can't perform this operation on the secret because it was marked for deletion.";

  function listSecrets(input: Record<string, unknown>): Response {
    const max = input.MaxResults ?? 100;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > 100) {
      return validation(
        `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100`,
      );
    }
    listings.push({
      sortBy: input.SortBy,
      sortOrder: input.SortOrder,
      token: input.NextToken !== undefined,
    });
    const sortFields = options.sortFields ?? "honored";
    if (
      sortFields === "rejected" && (input.SortBy !== undefined || input.SortOrder !== undefined)
    ) {
      return jsonError(400, "InvalidParameterException", "SortBy and SortOrder are not supported.");
    }
    const by = sortFields === "ignored" ? "created-date" : input.SortBy ?? "created-date";
    const direction = sortFields === "ignored" ? "asc" : input.SortOrder ?? "asc";
    if (typeof by !== "string" || !SORT_BY.includes(by)) {
      return validation(
        `1 validation error detected: Value '${by}' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [${
          SORT_BY.join(", ")
        }]`,
      );
    }
    if (direction !== "asc" && direction !== "desc") {
      return validation(
        `1 validation error detected: Value '${direction}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]`,
      );
    }
    const tag = `ListSecrets:${by}:${direction}`;
    const offset = readPageToken(tag, input.NextToken);
    if (offset === null) {
      return jsonError(400, "InvalidNextTokenException", "The NextToken value is invalid.");
    }
    const fold = options.collation === "case-insensitive"
      ? (name: string) => name.toLowerCase()
      : (name: string) => name;
    const key = by === "name"
      ? (s: FakeSecret) => fold(s.name)
      : (s: FakeSecret) => createdAt.get(s.name)!;
    let visible = [...sorted].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      const c = x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : 1;
      return direction === "asc" ? c : -c;
    }).filter((s) => !s.deleted || input.IncludePlannedDeletion === true);
    for (const filter of (input.Filters ?? []) as { Key?: string; Values?: string[] }[]) {
      if (filter.Key !== "name") {
        return jsonError(400, "InvalidParameterException", "Only name filters are faked.");
      }
      const values = filter.Values ?? [];
      visible = visible.filter((s) =>
        values.some((v) =>
          v.startsWith("!") ? !s.name.startsWith(v.slice(1)) : s.name.startsWith(v)
        )
      );
    }
    const start = offset ?? 0;
    if (options.endlessPages !== undefined) {
      const count = options.endlessPages;
      return jsonOk({
        SecretList: Array.from({ length: count }, (_, i) => ({ Name: `endless/${start + i}` })),
        NextToken: pageToken(tag, start + count),
      });
    }
    const size = Math.min(max, options.pageSize ?? 100);
    const page = visible.slice(start, start + size);
    const next = start + size < visible.length || (options.repeatPaging && start > 0)
      ? pageToken(tag, options.repeatPaging ? size : start + size)
      : undefined;
    return jsonOk({
      SecretList: page.map((s) => ({
        ARN: arns.get(s.name),
        Name: s.name,
        LastChangedDate: created + createdAt.get(s.name)!,
        CreatedDate: created + createdAt.get(s.name)!,
        ...(s.deleted ? { DeletedDate: created + 60 } : {}),
        SecretVersionsToStages: stagesOf(s),
      })),
      ...(next ? { NextToken: next } : {}),
    });
  }

  function batchGet(input: Record<string, unknown>): Response {
    const ids = input.SecretIdList;
    if ((ids === undefined) === (input.Filters === undefined)) {
      return jsonError(
        400,
        "InvalidParameterException",
        "Either SecretIdList or Filters must be specified, but not both.",
      );
    }
    if (input.Filters !== undefined) {
      return jsonError(400, "InvalidParameterException", "Filters are not faked.");
    }
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 20) {
      return validation(
        `1 validation error detected: Value at 'secretIdList' failed to satisfy constraint: Member must have length less than or equal to 20`,
      );
    }
    if (input.MaxResults !== undefined) {
      return jsonError(
        400,
        "InvalidParameterException",
        "MaxResults can only be used with Filters.",
      );
    }
    const values = [];
    const errors = [];
    for (const id of ids as string[]) {
      const secret = find(id);
      if (!secret) {
        errors.push({ SecretId: id, ErrorCode: "ResourceNotFoundException", Message: notFound });
      } else if (denySecrets.has(secret.name)) {
        errors.push({
          SecretId: id,
          ErrorCode: "AccessDeniedException",
          Message: "not authorized to perform: secretsmanager:GetSecretValue",
        });
      } else if (secret.deleted) {
        errors.push({ SecretId: id, ErrorCode: "InvalidRequestException", Message: deleted });
      } else {
        values.push(valueOf(secret, current(secret)));
      }
    }
    return jsonOk({ SecretValues: values, Errors: errors });
  }

  function getOne(input: Record<string, unknown>): Response {
    if (typeof input.SecretId !== "string" || input.SecretId === "") {
      return validation(
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
      );
    }
    const secret = find(input.SecretId);
    if (!secret) return jsonError(400, "ResourceNotFoundException", notFound);
    if (denySecrets.has(secret.name)) {
      return denied("secretsmanager:GetSecretValue", arns.get(secret.name));
    }
    if (secret.deleted) return jsonError(400, "InvalidRequestException", deleted);
    const { VersionId: id, VersionStage: stage } = input;
    if (id !== undefined && (typeof id !== "string" || id.length < 32 || id.length > 64)) {
      return validation(
        `1 validation error detected: Value '${id}' at 'versionId' failed to satisfy constraint: Member must have length greater than or equal to 32`,
      );
    }
    if (
      stage !== undefined && (typeof stage !== "string" || stage.length < 1 || stage.length > 256)
    ) {
      return validation(
        `1 validation error detected: Value '${stage}' at 'versionStage' failed to satisfy constraint: Member must have length greater than or equal to 1`,
      );
    }
    const list = versions.get(secret.name)!;
    const byId = id === undefined ? undefined : list.find((v) => v.id === id);
    if (id !== undefined && !byId) {
      return jsonError(
        400,
        "ResourceNotFoundException",
        `Secrets Manager can't find the specified secret value for VersionId: ${id}`,
      );
    }
    const wanted = stage ?? (id === undefined ? "AWSCURRENT" : undefined);
    const byStage = wanted === undefined
      ? undefined
      : list.find((v) => v.stages.includes(wanted as string));
    if (wanted !== undefined && (!byStage || (byId && byId !== byStage))) {
      return jsonError(
        400,
        "ResourceNotFoundException",
        `Secrets Manager can't find the specified secret value for staging label: ${wanted}`,
      );
    }
    return jsonOk(valueOf(secret, (byId ?? byStage)!));
  }

  return {
    calls,
    order,
    listings,
    faults,
    arn: (name) => arns.get(name)!,
    versionId: (name, stage = "AWSCURRENT") =>
      versions.get(name)?.find((v) => v.stages.includes(stage))?.id,
    rotate(name, value) {
      const list = versions.get(name)!;
      const old = list.find((v) => v.stages.includes("AWSCURRENT"))!;
      const fresh: FakeVersion = {
        id: crypto.randomUUID(),
        string: value,
        stages: [],
        created: Date.now() / 1000,
      };
      list.push(fresh);
      moveLabel(name, "AWSPREVIOUS", old);
      moveLabel(name, "AWSCURRENT", fresh);
      return fresh.id;
    },
    label(name, stage, versionId) {
      const to = versions.get(name)!.find((v) => v.id === versionId);
      if (!to) throw new Error(`no version ${versionId} of ${name}`);
      moveLabel(name, stage, to);
    },
    async handler(request) {
      const front = await jsonFront(request, {
        keys,
        region,
        service: "secretsmanager",
        targetPrefix: "secretsmanager",
        operations: OPERATIONS,
        faults,
        calls,
        redirect: options.redirect,
      });
      if (front instanceof Response) return front;
      const { operation, input } = front;
      order.push(operation);
      if (deny.has(operation)) return denied(`secretsmanager:${operation}`);
      switch (operation) {
        case "ListSecrets":
          return listSecrets(input);
        case "BatchGetSecretValue":
          return batchGet(input);
        default:
          return getOne(input);
      }
    },
  };
}
