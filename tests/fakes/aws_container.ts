/**
 * A fake ECS/EKS container credentials endpoint: `GET` on the credentials path with the
 * `Authorization` header the task was given (`AWS_CONTAINER_AUTHORIZATION_TOKEN`); answers
 * `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration` (and `RoleArn`) as JSON.
 *
 * @module
 */

import type { FakeKeyStore } from "./aws_sigv4.ts";

/** Options of the container endpoint fake. */
export interface ContainerFakeOptions {
  /** The credentials path (default `/v2/credentials/task`). */
  path?: string;
  /** The required `Authorization` value; undefined accepts requests without one. */
  authorization?: string;
  /** Lifetime of issued credentials in milliseconds (default six hours). */
  lifetimeMs?: number;
}

/** The fake: handler and counters. */
export interface ContainerFake {
  /** The request handler. */
  handler: (request: Request) => Response;
  /** Credentials issued. */
  readonly issued: number;
}

/** Create a container credentials fake issuing into `keys`. */
export function containerFake(
  keys: FakeKeyStore,
  options: ContainerFakeOptions = {},
): ContainerFake {
  const path = options.path ?? "/v2/credentials/task";
  let issued = 0;
  return {
    get issued() {
      return issued;
    },
    handler(request) {
      const url = new URL(request.url);
      if (request.method !== "GET" || url.pathname !== path) {
        return Response.json({ message: "not found" }, { status: 404 });
      }
      if (
        options.authorization !== undefined &&
        request.headers.get("authorization") !== options.authorization
      ) {
        return Response.json({ message: "invalid authorization token" }, { status: 401 });
      }
      issued++;
      const creds = keys.issue(options.lifetimeMs ?? 6 * 3600_000);
      return Response.json({
        RoleArn: "arn:aws:iam::123456789012:role/ci-task",
        AccessKeyId: creds.accessKeyId,
        SecretAccessKey: creds.secretAccessKey,
        Token: creds.sessionToken,
        Expiration: creds.expiration,
      });
    },
  };
}
