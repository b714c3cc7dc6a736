/**
 * AWS configuration shared by the Secrets Manager and SSM Parameter Store backends:
 * parameters, region, endpoints, which credential source this run uses, and the exact
 * sandbox (hosts and files) that follows from them.
 *
 * @module
 */

import { hostPort, parseBool, parseHttpUrl, parseWholeNumber } from "../../lib/kit/params.ts";
import { ToolError } from "../../lib/kit/errors.ts";
import {
  AWS_AUDIENCE,
  ciTokenPlan,
  OIDC_PARAMS,
  tokenNet,
  type TokenPlan,
  tokenRead,
} from "../../lib/kit/oidc.ts";
import type {
  ParamDoc,
  ProviderSettings,
  SandboxPlan,
  VaultCredentialReader,
} from "../../lib/contract/provider.ts";

/** The default region when neither `SECRETS_AWS_REGION` nor `AWS_REGION` is set. */
export const DEFAULT_REGION = "eu-west-2";
/**
 * The default bounded concurrency of AWS requests: a Secrets Manager listing from both ends
 * starts ten 20-secret batches a round, and the documented quotas are kept by the rate
 * gates, not by this bound.
 */
export const DEFAULT_CONCURRENCY = 16;
/** The ECS container credentials host used with `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`. */
export const CONTAINER_HOST = "http://169.254.170.2";
/** The EC2 instance metadata service. */
export const IMDS_ENDPOINT = "http://169.254.169.254";

/** The parameters both AWS backends read. */
export const AWS_PARAMS: readonly ParamDoc[] = [
  {
    name: "SECRETS_AWS_REGION",
    default: DEFAULT_REGION,
    meaning: "AWS: the region; when unset, `AWS_REGION`, else `eu-west-2`.",
  },
  { name: "AWS_REGION", meaning: "AWS: the region when `SECRETS_AWS_REGION` is unset." },
  {
    name: "SECRETS_AWS_USE_ROLE",
    default: "false",
    meaning:
      "AWS: `true` ignores keys in the vault and uses the standard credential chain (env keys, web identity, container, EC2 instance role).",
  },
  {
    name: "SECRETS_AWS_ACCESS_KEY_LOCATION",
    default: "AWS.DEFAULT.S3_KEY",
    meaning: "AWS: the vault key holding the access key id.",
  },
  {
    name: "SECRETS_AWS_SECRET_KEY_LOCATION",
    default: "AWS.DEFAULT.S3_SECRET",
    meaning: "AWS: the vault key holding the secret access key.",
  },
  {
    name: "SECRETS_AWS_CONCURRENCY",
    default: String(DEFAULT_CONCURRENCY),
    meaning: "AWS: most requests in flight at once (1 to 64).",
  },
  {
    name: "AWS_ACCESS_KEY_ID",
    meaning: "AWS credential chain: access key id (with `AWS_SECRET_ACCESS_KEY`).",
  },
  { name: "AWS_SECRET_ACCESS_KEY", meaning: "AWS credential chain: secret access key." },
  { name: "AWS_SESSION_TOKEN", meaning: "AWS credential chain: session token of temporary keys." },
  {
    name: "AWS_ROLE_ARN",
    meaning:
      "AWS credential chain: role to assume with web identity; its token from `AWS_WEB_IDENTITY_TOKEN_FILE`, else `SECRETS_OIDC_TOKEN`, else GitHub Actions.",
  },
  {
    name: "AWS_WEB_IDENTITY_TOKEN_FILE",
    meaning: "AWS credential chain: file holding the OIDC token for `AWS_ROLE_ARN`.",
  },
  {
    name: "SECRETS_AWS_ROLE_ARN",
    meaning:
      "AWS: a role assumed with STS `AssumeRole` from whatever base credentials were found (role chaining).",
  },
  {
    name: "SECRETS_AWS_ROLE_EXTERNAL_ID",
    meaning: "AWS: the `ExternalId` sent when assuming `SECRETS_AWS_ROLE_ARN`.",
  },
  {
    name: "SECRETS_AWS_ROLE_SESSION_NAME",
    default: "secrets-orchestrator",
    meaning: "AWS: the session name when assuming `SECRETS_AWS_ROLE_ARN`.",
  },
  {
    name: "SECRETS_AWS_ROLE_DURATION",
    default: "3600",
    meaning:
      "AWS: seconds the `SECRETS_AWS_ROLE_ARN` session lasts (900 to 43200); refreshed before it ends.",
  },
  {
    name: "AWS_ROLE_SESSION_NAME",
    default: "secrets-orchestrator",
    meaning: "AWS credential chain: session name for web identity.",
  },
  {
    name: "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    meaning: "AWS credential chain: container credentials URL (EKS Pod Identity, ECS).",
  },
  {
    name: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    meaning: "AWS credential chain: ECS task credentials path on `169.254.170.2`.",
  },
  {
    name: "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    meaning: "AWS credential chain: `Authorization` header for the container endpoint.",
  },
  {
    name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    meaning: "AWS credential chain: file holding the container endpoint's `Authorization` header.",
  },
  {
    name: "AWS_EC2_METADATA_DISABLED",
    default: "false",
    meaning: "AWS credential chain: `true` never asks the EC2 instance metadata service.",
  },
  {
    name: "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    default: IMDS_ENDPOINT,
    meaning: "AWS credential chain: the instance metadata service URL.",
  },
  { name: "AWS_ENDPOINT_URL", meaning: "AWS: endpoint URL for every AWS service (VPC endpoints)." },
  {
    name: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    meaning: "AWS: Secrets Manager endpoint URL, overriding `AWS_ENDPOINT_URL`.",
  },
  {
    name: "AWS_ENDPOINT_URL_SSM",
    meaning: "AWS: SSM endpoint URL, overriding `AWS_ENDPOINT_URL`.",
  },
  {
    name: "AWS_ENDPOINT_URL_STS",
    meaning: "AWS: STS endpoint URL, overriding `AWS_ENDPOINT_URL`.",
  },
  ...OIDC_PARAMS,
];

/** The AWS services this tool calls, by SigV4 service name. */
export type AwsService = "secretsmanager" | "ssm" | "sts";

const ENDPOINT_ENV: Record<AwsService, string> = {
  secretsmanager: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
  ssm: "AWS_ENDPOINT_URL_SSM",
  sts: "AWS_ENDPOINT_URL_STS",
};

/** Where this run's credentials come from; the first configured source wins. */
export type CredentialSource =
  | { kind: "vault"; accessKeyId: string; secretAccessKey: string }
  | { kind: "env"; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | { kind: "web-identity"; roleArn: string; token: TokenPlan; sessionName: string; sts: string }
  | { kind: "container"; url: string; token?: string; tokenFile?: string }
  | { kind: "imds"; endpoint: string };

/** The region: `SECRETS_AWS_REGION`, else `AWS_REGION`, else `eu-west-2`. */
export function region(settings: ProviderSettings): string {
  const value = settings.env.SECRETS_AWS_REGION?.trim() || settings.env.AWS_REGION?.trim() ||
    DEFAULT_REGION;
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(value)) {
    throw new ToolError(
      "config",
      `AWS region ${
        JSON.stringify(value)
      } is not a region name like eu-west-2; fix SECRETS_AWS_REGION or AWS_REGION`,
    );
  }
  return value;
}

/** The bounded concurrency (`SECRETS_AWS_CONCURRENCY`). */
export function concurrency(settings: ProviderSettings): number {
  return parseWholeNumber(
    "SECRETS_AWS_CONCURRENCY",
    settings.env.SECRETS_AWS_CONCURRENCY,
    DEFAULT_CONCURRENCY,
    1,
    64,
  );
}

function checkUrl(name: string, value: string): string {
  parseHttpUrl(name, value);
  return value.replace(/\/+$/, "");
}

/** The endpoint of a service: its `AWS_ENDPOINT_URL_*`, else `AWS_ENDPOINT_URL`, else AWS's. */
export function endpoint(settings: ProviderSettings, service: AwsService): string {
  const specific = settings.env[ENDPOINT_ENV[service]]?.trim();
  if (specific) return checkUrl(ENDPOINT_ENV[service], specific);
  const general = settings.env.AWS_ENDPOINT_URL?.trim();
  if (general) return checkUrl("AWS_ENDPOINT_URL", general);
  const name = region(settings);
  const suffix = name.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://${service}.${name}.${suffix}`;
}

/** The vault paths of the static keys (`SECRETS_AWS_*_KEY_LOCATION`). */
export function keyLocations(settings: ProviderSettings): { access: string; secret: string } {
  return {
    access: settings.env.SECRETS_AWS_ACCESS_KEY_LOCATION?.trim() || "AWS.DEFAULT.S3_KEY",
    secret: settings.env.SECRETS_AWS_SECRET_KEY_LOCATION?.trim() || "AWS.DEFAULT.S3_SECRET",
  };
}

/** Whether `SECRETS_AWS_USE_ROLE` is set. */
export function useRole(settings: ProviderSettings): boolean {
  return parseBool("SECRETS_AWS_USE_ROLE", settings.env.SECRETS_AWS_USE_ROLE, false);
}

const CONTAINER_HOSTS = new Set(["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"]);

function containerUrl(settings: ProviderSettings): string | undefined {
  const relative = settings.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI?.trim();
  if (relative) {
    return `${CONTAINER_HOST}${relative.startsWith("/") ? "" : "/"}${relative}`;
  }
  const full = settings.env.AWS_CONTAINER_CREDENTIALS_FULL_URI?.trim();
  if (!full) return undefined;
  const url = new URL(checkUrl("AWS_CONTAINER_CREDENTIALS_FULL_URI", full));
  const loopback = url.hostname === "localhost" || url.hostname.startsWith("127.") ||
    url.hostname === "[::1]";
  if (url.protocol === "http:" && !loopback && !CONTAINER_HOSTS.has(url.hostname)) {
    throw new ToolError(
      "config",
      "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https, or http to a loopback address or the ECS/EKS link-local hosts",
    );
  }
  return full;
}

function checkRoleArn(name: string, text: string): string {
  const roleArn = text.trim();
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/.test(roleArn)) {
    throw new ToolError(
      "config",
      `${name}=${
        JSON.stringify(roleArn.slice(0, 100))
      } is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`,
    );
  }
  return roleArn;
}

function checkSessionName(name: string, sessionName: string): string {
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw new ToolError(
      "config",
      `${name}=${
        JSON.stringify(sessionName.slice(0, 100))
      } is not valid: 2-64 characters of letters, digits and _+=,.@-`,
    );
  }
  return sessionName;
}

/** A role assumed with STS `AssumeRole` from the base credentials (role chaining). */
export interface ChainedRole {
  /** The role's ARN (`SECRETS_AWS_ROLE_ARN`). */
  roleArn: string;
  /** The `ExternalId`, when the role's trust policy asks for one. */
  externalId?: string;
  /** The session name. */
  sessionName: string;
  /** The session's length in seconds. */
  durationSeconds: number;
  /** The STS endpoint. */
  sts: string;
  /** The region STS requests are signed for. */
  region: string;
}

/** The role to chain to (`SECRETS_AWS_ROLE_ARN` and its options), or undefined. */
export function chainedRole(settings: ProviderSettings): ChainedRole | undefined {
  const env = settings.env;
  const text = env.SECRETS_AWS_ROLE_ARN?.trim();
  if (!text) {
    for (const name of ["SECRETS_AWS_ROLE_EXTERNAL_ID", "SECRETS_AWS_ROLE_DURATION"]) {
      if (env[name]?.trim()) {
        throw new ToolError("config", `${name} is set without SECRETS_AWS_ROLE_ARN; set both`);
      }
    }
    return undefined;
  }
  const externalId = env.SECRETS_AWS_ROLE_EXTERNAL_ID?.trim() || undefined;
  if (externalId !== undefined && !/^[\w+=,.@:\/-]{2,1224}$/.test(externalId)) {
    throw new ToolError(
      "config",
      "SECRETS_AWS_ROLE_EXTERNAL_ID is not valid: 2-1224 characters of letters, digits and _+=,.@:/-",
    );
  }
  return {
    roleArn: checkRoleArn("SECRETS_AWS_ROLE_ARN", text),
    externalId,
    sessionName: checkSessionName(
      "SECRETS_AWS_ROLE_SESSION_NAME",
      env.SECRETS_AWS_ROLE_SESSION_NAME?.trim() || "secrets-orchestrator",
    ),
    durationSeconds: parseWholeNumber(
      "SECRETS_AWS_ROLE_DURATION",
      env.SECRETS_AWS_ROLE_DURATION,
      3600,
      900,
      43200,
    ),
    sts: endpoint(settings, "sts"),
    region: region(settings),
  };
}

/**
 * What to do when no AWS credentials were found: when `SECRETS_MANAGER` was not set the
 * user may not have meant AWS at all, so say that the backend defaulted to it.
 */
export function noCredentialsHint(settings: Pick<ProviderSettings, "env">): string {
  const chain =
    "give AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, or AWS_CONTAINER_CREDENTIALS_FULL_URI) or run on an instance with a role";
  if ((settings.env.SECRETS_MANAGER ?? "").trim() === "") {
    return `SECRETS_MANAGER is not set, so the backend defaulted to AWS_SECRETS_MANAGER: set SECRETS_MANAGER to choose another backend, or ${chain}`;
  }
  return chain;
}

/** Decide where credentials come from, from the configuration alone (no network). */
export function credentialSource(
  settings: ProviderSettings,
  vaultCredentials: Readonly<Record<string, string>>,
): CredentialSource {
  if (!useRole(settings)) {
    const { access, secret } = keyLocations(settings);
    const accessKeyId = vaultCredentials[access];
    const secretAccessKey = vaultCredentials[secret];
    if (accessKeyId && secretAccessKey) return { kind: "vault", accessKeyId, secretAccessKey };
    if (accessKeyId || secretAccessKey) {
      throw new ToolError(
        "config",
        `the vault holds ${accessKeyId ? access : secret} but not ${
          accessKeyId ? secret : access
        }; add both AWS keys, or set SECRETS_AWS_USE_ROLE=true`,
      );
    }
  }
  const env = settings.env;
  if (env.AWS_ACCESS_KEY_ID || env.AWS_SECRET_ACCESS_KEY) {
    if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
      throw new ToolError(
        "config",
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together",
      );
    }
    return {
      kind: "env",
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      sessionToken: env.AWS_SESSION_TOKEN || undefined,
    };
  }
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_ROLE_ARN) {
    if (!env.AWS_ROLE_ARN) {
      throw new ToolError(
        "config",
        "web identity needs AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE",
      );
    }
    const roleArn = checkRoleArn("AWS_ROLE_ARN", env.AWS_ROLE_ARN);
    // The token file wins (EKS, or a CI step writing one), then the CI system's token.
    const file = env.AWS_WEB_IDENTITY_TOKEN_FILE?.trim();
    const token: TokenPlan | undefined = file
      ? { kind: "file", path: file, source: "AWS_WEB_IDENTITY_TOKEN_FILE" }
      : ciTokenPlan(settings, AWS_AUDIENCE, "AWS web identity");
    if (!token) {
      throw new ToolError(
        "config",
        "AWS_ROLE_ARN is set but no web identity token is: set AWS_WEB_IDENTITY_TOKEN_FILE or SECRETS_OIDC_TOKEN, or on GitHub Actions give the job `permissions: id-token: write`",
      );
    }
    return {
      kind: "web-identity",
      roleArn,
      token,
      sessionName: checkSessionName(
        "AWS_ROLE_SESSION_NAME",
        env.AWS_ROLE_SESSION_NAME?.trim() || "secrets-orchestrator",
      ),
      sts: endpoint(settings, "sts"),
    };
  }
  const container = containerUrl(settings);
  // deno-lint-ignore no-control-regex -- control characters are exactly what is refused
  if (container && /[\x00-\x1f\x7f]/.test(env.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? "")) {
    throw new ToolError(
      "config",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN contains a control character (CR, LF, ...); it cannot be sent as a header, fix the variable",
    );
  }
  if (container) {
    return {
      kind: "container",
      url: container,
      token: env.AWS_CONTAINER_AUTHORIZATION_TOKEN || undefined,
      tokenFile: env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE || undefined,
    };
  }
  if (parseBool("AWS_EC2_METADATA_DISABLED", env.AWS_EC2_METADATA_DISABLED, false)) {
    throw new ToolError(
      "config",
      `no AWS credentials: the vault holds no keys, no AWS_* credentials are set and AWS_EC2_METADATA_DISABLED is true; ${
        noCredentialsHint(settings)
      }`,
    );
  }
  const imds = env.AWS_EC2_METADATA_SERVICE_ENDPOINT?.trim();
  return {
    kind: "imds",
    endpoint: imds ? checkUrl("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds) : IMDS_ENDPOINT,
  };
}

/** An AWS backend's configuration for one run: plain data, resolved once. */
export interface AwsConfig {
  /** The region. */
  region: string;
  /** Most requests in flight at once. */
  concurrency: number;
  /** The service's endpoint URL. */
  endpoint: string;
  /** Where the base credentials come from. */
  source: CredentialSource;
  /** A role assumed from the base credentials, when `SECRETS_AWS_ROLE_ARN` is set. */
  chain?: ChainedRole;
}

/**
 * Resolve an AWS backend's configuration: region, concurrency and endpoint, then the
 * credential source (the vault's keys unless `SECRETS_AWS_USE_ROLE`, else the chain).
 */
export async function configureAws(
  settings: ProviderSettings,
  vault: VaultCredentialReader,
  service: AwsService,
): Promise<AwsConfig> {
  const config = {
    region: region(settings),
    concurrency: concurrency(settings),
    endpoint: endpoint(settings, service),
  };
  let credentials: Readonly<Record<string, string>> = {};
  if (!useRole(settings)) {
    const { access, secret } = keyLocations(settings);
    credentials = await vault([access, secret]);
  }
  return {
    ...config,
    source: credentialSource(settings, credentials),
    chain: chainedRole(settings),
  };
}

/** The sandbox of an AWS run: the service endpoint plus what the credential source needs. */
export function awsSandbox(config: AwsConfig): SandboxPlan {
  const net = [hostPort(config.endpoint)];
  const read: string[] = [];
  const { source } = config;
  switch (source.kind) {
    case "web-identity":
      net.push(hostPort(source.sts), ...tokenNet(source.token));
      read.push(...tokenRead(source.token));
      break;
    case "container":
      net.push(hostPort(source.url));
      if (source.tokenFile) read.push(source.tokenFile);
      break;
    case "imds":
      net.push(hostPort(source.endpoint));
      break;
  }
  if (config.chain) net.push(hostPort(config.chain.sts));
  return { net: [...new Set(net)], read, run: [] };
}
