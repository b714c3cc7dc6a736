/**
 * The `AWS_PARAMETER_STORE` backend (SSM Parameter Store): its descriptor. Names map to
 * vault keys with slashes as dots, after `SECRETS_STRIP_PREFIX`; the requests are in
 * `fetch.ts`.
 *
 * @module
 */

import type { ParamDoc, Provider, ProviderSettings } from "../../lib/contract/provider.ts";
import { ToolError } from "../../lib/kit/errors.ts";
import { parseSelector, refuseStraySemicolon } from "../../lib/kit/selector.ts";
import { flatten, mapNamed } from "../../lib/kit/mapping.ts";
import { AWS_PARAMS, type AwsConfig, awsSandbox, configureAws } from "../aws/config.ts";
import type { SsmThroughput } from "../aws/quotas.ts";

/** The configuration of one Parameter Store run: AWS's, plus the account's throughput. */
export interface SsmConfig extends AwsConfig {
  /** Which documented quotas pace the value reads. */
  throughput: SsmThroughput;
}

/** The parameters of the Parameter Store backend: the AWS ones and its throughput. */
export const SSM_PARAMS: readonly ParamDoc[] = [
  ...AWS_PARAMS,
  {
    name: "SECRETS_AWS_SSM_THROUGHPUT",
    default: "standard",
    meaning:
      "`AWS_PARAMETER_STORE`: `standard` paces value reads at 40/s; `higher` (when enabled) at 3,000/s, `GetParametersByPath` 100/s.",
  },
];

/** The throughput setting (`SECRETS_AWS_SSM_THROUGHPUT`, any case; default `standard`). */
export function ssmThroughput(settings: ProviderSettings): SsmThroughput {
  const text = settings.env.SECRETS_AWS_SSM_THROUGHPUT;
  const word = text?.trim().toLowerCase() || "standard";
  if (word === "standard" || word === "higher") return word;
  throw new ToolError(
    "config",
    `SECRETS_AWS_SSM_THROUGHPUT=${
      JSON.stringify(text)
    } must be standard or higher (the Parameter Store throughput setting of the account and region)`,
  );
}

/**
 * A parameter version (a whole number from 1) or label: up to 100 letters, digits, `.`, `-`
 * and `_`, not starting with a digit, `aws` or `ssm` (the service's label rules).
 */
export function checkSsmVersion(text: string, version: string): void {
  if (/^[1-9][0-9]{0,18}$/.test(version)) return;
  if (/^[A-Za-z._-][A-Za-z0-9._-]{0,99}$/.test(version) && !/^(aws|ssm)/i.test(version)) return;
  throw new ToolError(
    "config",
    `SECRETS_SELECTION entry ${
      JSON.stringify(text)
    } has ;version=${version}, which is neither a parameter version (1, 2, ...) nor a label (letters, digits, ".", "-", "_"; not starting with a digit, "aws" or "ssm")`,
  );
}

/** The `AWS_PARAMETER_STORE` provider. */
export const awsParameterStoreProvider: Provider<SsmConfig> = {
  backend: "AWS_PARAMETER_STORE",
  params: SSM_PARAMS,
  configure: async (settings, vault) => {
    for (const text of settings.selection) {
      const selector = parseSelector(text);
      refuseStraySemicolon(text, selector, "AWS SSM Parameter Store");
      if (selector.version !== undefined) checkSsmVersion(text, selector.version);
    }
    const throughput = ssmThroughput(settings);
    return { ...await configureAws(settings, vault, "ssm"), throughput };
  },
  sandbox: awsSandbox,
  loadFetch: () => import("./fetch.ts"),
  map: (secret, settings) =>
    mapNamed(secret, settings, "/", (path) => flatten(path, secret.value, secret.name)),
};
