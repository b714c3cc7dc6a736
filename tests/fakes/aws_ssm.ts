/**
 * A fake AWS SSM Parameter Store (JSON 1.1, target prefix `AmazonSSM`) following the API
 * reference: `GetParametersByPath` (Path starting with `/`, `Recursive`, `WithDecryption`,
 * MaxResults 1-10, `NextToken`), `DescribeParameters` (MaxResults 1-50, `ParameterFilters`
 * `Path` and `Name`), `GetParameters` (1-10 names, `InvalidParameters`), `GetParameter`
 * and `LabelParameterVersion`. Parameters keep numbered versions and labels as the service
 * does: a name may carry the API's selector, `name:3` or `name:label`; an unknown version
 * or label is listed in `InvalidParameters` by `GetParameters` and is
 * `ParameterVersionNotFound` (or `ParameterNotFound`) for `GetParameter`; a label is on one
 * version at a time, a version holds at most 10 labels (`ParameterVersionLabelLimitExceeded`),
 * and labels breaking the naming rules come back in `InvalidLabels`. `SecureString` values
 * come back encrypted unless `WithDecryption` is true. Signatures are verified.
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

/** One seeded parameter. */
export interface FakeParameter {
  /** Its name, e.g. `/dataops/SNOWFLAKE/USER` or a flat `config.key`. */
  name: string;
  /** Its type. */
  type: "String" | "StringList" | "SecureString";
  /** Its (plain) value: the latest version's. */
  value: string;
  /** Older values, oldest first: versions 1, 2, ...; the latest is the next number. */
  history?: string[];
  /** Labels by name, each on the version number given. */
  labels?: Record<string, number>;
}

/** One version of a parameter as the fake keeps it. */
interface FakeParameterVersion {
  version: number;
  value: string;
  labels: string[];
  modified: number;
}

/** What `LabelParameterVersion` answers. */
export interface LabelResult {
  /** The labels that break the naming rules (not attached). */
  InvalidLabels: string[];
  /** The version labelled. */
  ParameterVersion: number;
}

/** The fake: handler, counters, fault injection. */
export interface SsmFake {
  /** The request handler. */
  handler: (request: Request) => Promise<Response>;
  /** Successful-signature calls by operation. */
  calls: Map<string, number>;
  /** Faults answered to the next requests, in order. */
  faults: Fault[];
  /** Store a new version (as `PutParameter` with `Overwrite`); returns its number. */
  put(name: string, value: string): number;
  /** Attach labels to a version (as `LabelParameterVersion`); throws the service's error. */
  label(name: string, version: number, labels: string[]): LabelResult;
}

const OPERATIONS = [
  "GetParametersByPath",
  "DescribeParameters",
  "GetParameters",
  "GetParameter",
  "LabelParameterVersion",
] as const;

/** Most labels on one parameter version (the service's limit). */
export const LABELS_PER_VERSION = 10;

/** Whether a label follows the service's rules (letters, digits, `._-`; max 100; no leading digit, `aws` or `ssm`). */
function validLabel(label: string): boolean {
  return /^[A-Za-z0-9._-]{1,100}$/.test(label) && !/^[0-9]/.test(label) &&
    !/^(aws|ssm)/i.test(label);
}

/** An error of the fake's own operations, as data, turned into a response by the handler. */
class SsmError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function encrypted(value: string): string {
  return btoa(`kms-ciphertext:${value.length}:${value.split("").reverse().join("")}`);
}

/** Whether `name` lies below `path` (recursively, or one level when not recursive). */
function under(name: string, path: string, recursive: boolean): boolean {
  const base = path === "/" ? "/" : `${path}/`;
  if (!name.startsWith(base)) return false;
  return recursive || !name.slice(base.length).includes("/");
}

/** Create an SSM fake over `parameters`, accepting keys from `keys`. */
export function ssmFake(
  parameters: readonly FakeParameter[],
  keys: FakeKeyStore,
  options: JsonServiceOptions = {},
): SsmFake {
  const region = options.region ?? "eu-west-2";
  const deny = new Set(options.deny ?? []);
  const calls = new Map<string, number>();
  const faults: Fault[] = [];
  const sorted = [...parameters].sort((a, b) => a.name < b.name ? -1 : 1);
  const modified = Math.floor(Date.now() / 1000) - 60;
  const versions = new Map<string, FakeParameterVersion[]>();
  for (const p of sorted) {
    const values = [...(p.history ?? []), p.value];
    versions.set(
      p.name,
      values.map((value, i) => ({
        version: i + 1,
        value,
        labels: [],
        modified: modified - 60 * (values.length - 1 - i),
      })),
    );
  }
  const latest = (p: FakeParameter) => versions.get(p.name)!.at(-1)!;

  function label(name: string, version: number | undefined, labels: string[]): LabelResult {
    const list = versions.get(name);
    if (!list) throw new SsmError("ParameterNotFound", `Parameter ${name} not found.`);
    const target = version === undefined ? list.at(-1)! : list.find((v) => v.version === version);
    if (!target) {
      throw new SsmError(
        "ParameterVersionNotFound",
        `Systems Manager could not find version ${version} of ${name}. Verify the version and try again.`,
      );
    }
    const invalid = labels.filter((l) => !validLabel(l));
    const good = labels.filter(validLabel);
    const after = new Set([...target.labels, ...good]);
    if (after.size > LABELS_PER_VERSION) {
      throw new SsmError(
        "ParameterVersionLabelLimitExceeded",
        `A parameter version can have maximum ${LABELS_PER_VERSION} labels.`,
      );
    }
    for (const other of list) {
      if (other !== target) other.labels = other.labels.filter((l) => !good.includes(l));
    }
    target.labels = [...after];
    return { InvalidLabels: invalid, ParameterVersion: target.version };
  }
  for (const p of sorted) {
    for (const [name, version] of Object.entries(p.labels ?? {})) label(p.name, version, [name]);
  }

  /** A name with its optional `:version` or `:label` selector, resolved to one version. */
  function resolve(
    asked: string,
  ): { p: FakeParameter; v: FakeParameterVersion; selector?: string } | SsmError {
    const colon = asked.lastIndexOf(":");
    const exact = sorted.find((q) => q.name === asked);
    if (exact || colon <= 0) {
      if (!exact) return new SsmError("ParameterNotFound", "");
      return { p: exact, v: latest(exact) };
    }
    const name = asked.slice(0, colon);
    const selector = asked.slice(colon + 1);
    const p = sorted.find((q) => q.name === name);
    if (!p) return new SsmError("ParameterNotFound", "");
    const list = versions.get(name)!;
    const v = /^[0-9]+$/.test(selector)
      ? list.find((x) => x.version === Number(selector))
      : list.find((x) => x.labels.includes(selector));
    if (!v) {
      return new SsmError(
        "ParameterVersionNotFound",
        `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`,
      );
    }
    return { p, v, selector: `:${selector}` };
  }

  const full = (
    p: FakeParameter,
    decrypt: boolean,
    v: FakeParameterVersion = latest(p),
    selector?: string,
  ) => ({
    Name: p.name,
    Type: p.type,
    Value: p.type === "SecureString" && !decrypt ? encrypted(v.value) : v.value,
    Version: v.version,
    ...(selector ? { Selector: selector } : {}),
    LastModifiedDate: v.modified,
    ARN: `arn:aws:ssm:${region}:123456789012:parameter${
      p.name.startsWith("/") ? "" : "/"
    }${p.name}`,
    DataType: "text",
  });
  const maxCheck = (value: unknown, limit: number, field: string) => {
    const max = value ?? limit;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > limit) {
      return validation(
        `1 validation error detected: Value '${max}' at '${field}' failed to satisfy constraint: Member must have value less than or equal to ${limit}`,
      );
    }
    return max;
  };

  function byPath(input: Record<string, unknown>): Response {
    const path = input.Path;
    if (
      typeof path !== "string" || !path.startsWith("/") || (path.length > 1 && path.endsWith("/"))
    ) {
      return validation(
        `The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/".`,
      );
    }
    const max = maxCheck(input.MaxResults, 10, "maxResults");
    if (max instanceof Response) return max;
    const tag = `ByPath:${path}`;
    const offset = readPageToken(tag, input.NextToken);
    if (offset === null) {
      return jsonError(400, "InvalidNextToken", "The specified token isn't valid.");
    }
    const matches = sorted.filter((p) => under(p.name, path, input.Recursive === true));
    const start = offset ?? 0;
    const page = matches.slice(start, start + max);
    const next = start + max < matches.length || (options.repeatPaging && start > 0)
      ? pageToken(tag, options.repeatPaging ? max : start + max)
      : undefined;
    return jsonOk({
      Parameters: page.map((p) => full(p, input.WithDecryption === true)),
      ...(next ? { NextToken: next } : {}),
    });
  }

  function describe(input: Record<string, unknown>): Response {
    const max = maxCheck(input.MaxResults, 50, "maxResults");
    if (max instanceof Response) return max;
    let matches = sorted;
    const filters = (input.ParameterFilters ?? []) as {
      Key?: string;
      Option?: string;
      Values?: string[];
    }[];
    for (const filter of filters) {
      const values = filter.Values ?? [];
      if (filter.Key === "Path") {
        const recursive = filter.Option === "Recursive";
        if (
          filter.Option !== undefined && filter.Option !== "Recursive" &&
          filter.Option !== "OneLevel"
        ) {
          return jsonError(400, "InvalidFilterOption", "The specified filter option isn't valid.");
        }
        if (values.some((v) => !v.startsWith("/"))) {
          return jsonError(400, "InvalidFilterValue", "The Path filter value must begin with /.");
        }
        matches = matches.filter((p) => values.some((v) => under(p.name, v, recursive)));
      } else if (filter.Key === "Name") {
        const option = filter.Option ?? "Equals";
        matches = matches.filter((p) =>
          values.some((v) => option === "BeginsWith" ? p.name.startsWith(v) : p.name === v)
        );
      } else {
        return jsonError(400, "InvalidFilterKey", "The specified key isn't valid.");
      }
    }
    const tag = `Describe:${JSON.stringify(filters)}`;
    const offset = readPageToken(tag, input.NextToken);
    if (offset === null) {
      return jsonError(400, "InvalidNextToken", "The specified token isn't valid.");
    }
    const start = offset ?? 0;
    const page = matches.slice(start, start + max);
    const next = start + max < matches.length || (options.repeatPaging && start > 0)
      ? pageToken(tag, options.repeatPaging ? max : start + max)
      : undefined;
    return jsonOk({
      Parameters: page.map((p) => ({
        Name: p.name,
        Type: p.type,
        ...(p.type === "SecureString" ? { KeyId: "alias/aws/ssm" } : {}),
        LastModifiedDate: latest(p).modified,
        Version: latest(p).version,
        Tier: "Standard",
        DataType: "text",
      })),
      ...(next ? { NextToken: next } : {}),
    });
  }

  function getMany(input: Record<string, unknown>): Response {
    const names = input.Names;
    if (!Array.isArray(names) || names.length < 1 || names.length > 10) {
      return validation(
        `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`,
      );
    }
    const found = [];
    const invalid = [];
    for (const name of names as string[]) {
      const hit = resolve(name);
      if (hit instanceof SsmError) invalid.push(name);
      else found.push(full(hit.p, input.WithDecryption === true, hit.v, hit.selector));
    }
    found.sort((a, b) => a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0);
    return jsonOk({ Parameters: found, InvalidParameters: invalid });
  }

  function getOne(input: Record<string, unknown>): Response {
    if (typeof input.Name !== "string" || input.Name === "") {
      return validation(
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
      );
    }
    const hit = resolve(input.Name);
    if (hit instanceof SsmError) return jsonError(400, hit.code, hit.message);
    return jsonOk({ Parameter: full(hit.p, input.WithDecryption === true, hit.v, hit.selector) });
  }

  function labelOperation(input: Record<string, unknown>): Response {
    const labels = input.Labels;
    if (!Array.isArray(labels) || labels.length < 1 || labels.length > 10) {
      return validation(
        "1 validation error detected: Value at 'labels' failed to satisfy constraint: Member must have length less than or equal to 10",
      );
    }
    try {
      const version = typeof input.ParameterVersion === "number"
        ? input.ParameterVersion
        : undefined;
      return jsonOk(label(String(input.Name), version, labels as string[]));
    } catch (error) {
      if (error instanceof SsmError) return jsonError(400, error.code, error.message);
      throw error;
    }
  }

  return {
    calls,
    faults,
    put(name, value) {
      const list = versions.get(name)!;
      const version = list.at(-1)!.version + 1;
      list.push({ version, value, labels: [], modified: Math.floor(Date.now() / 1000) });
      return version;
    },
    label: (name, version, labels) => label(name, version, labels),
    async handler(request) {
      const front = await jsonFront(request, {
        keys,
        region,
        service: "ssm",
        targetPrefix: "AmazonSSM",
        operations: OPERATIONS,
        faults,
        calls,
        redirect: options.redirect,
      });
      if (front instanceof Response) return front;
      const { operation, input } = front;
      if (deny.has(operation)) return denied(`ssm:${operation}`);
      switch (operation) {
        case "GetParametersByPath":
          return byPath(input);
        case "DescribeParameters":
          return describe(input);
        case "GetParameter":
          return getOne(input);
        case "LabelParameterVersion":
          return labelOperation(input);
        default:
          return getMany(input);
      }
    },
  };
}
