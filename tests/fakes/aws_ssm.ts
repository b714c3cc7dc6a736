/**
 * A fake AWS SSM Parameter Store (JSON 1.1, target prefix `AmazonSSM`) following the API
 * reference: `GetParametersByPath` (Path starting with `/`, `Recursive`, `WithDecryption`,
 * MaxResults 1-10, `NextToken`), `DescribeParameters` (MaxResults 1-50, `ParameterFilters`
 * `Path` and `Name`), `GetParameters` (1-10 names, `InvalidParameters`). `SecureString`
 * values come back encrypted unless `WithDecryption` is true. Signatures are verified.
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
  /** Its (plain) value. */
  value: string;
}

/** The fake: handler, counters, fault injection. */
export interface SsmFake {
  /** The request handler. */
  handler: (request: Request) => Promise<Response>;
  /** Successful-signature calls by operation. */
  calls: Map<string, number>;
  /** Faults answered to the next requests, in order. */
  faults: Fault[];
}

const OPERATIONS = ["GetParametersByPath", "DescribeParameters", "GetParameters"] as const;

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
  const full = (p: FakeParameter, decrypt: boolean) => ({
    Name: p.name,
    Type: p.type,
    Value: p.type === "SecureString" && !decrypt ? encrypted(p.value) : p.value,
    Version: 1,
    LastModifiedDate: modified,
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
        LastModifiedDate: modified,
        Version: 1,
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
      const p = sorted.find((q) => q.name === name);
      if (p) found.push(full(p, input.WithDecryption === true));
      else invalid.push(name);
    }
    return jsonOk({ Parameters: found, InvalidParameters: invalid });
  }

  return {
    calls,
    faults,
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
        default:
          return getMany(input);
      }
    },
  };
}
