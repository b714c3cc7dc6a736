/**
 * The `AWS_PARAMETER_STORE` backend (SSM Parameter Store): its descriptor. Names map to
 * vault keys with slashes as dots, after `SECRETS_STRIP_PREFIX`; the requests are in
 * `fetch.ts`.
 *
 * @module
 */

import type { Provider } from "../../lib/contract/provider.ts";
import { ToolError } from "../../lib/kit/errors.ts";
import { parseSelector, refuseStraySemicolon } from "../../lib/kit/selector.ts";
import { flatten, mapNamed } from "../../lib/kit/mapping.ts";
import { AWS_PARAMS, type AwsConfig, awsSandbox, configureAws } from "../aws/config.ts";

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
export const awsParameterStoreProvider: Provider<AwsConfig> = {
  backend: "AWS_PARAMETER_STORE",
  params: AWS_PARAMS,
  configure(settings, vault) {
    for (const text of settings.selection) {
      const selector = parseSelector(text);
      refuseStraySemicolon(text, selector, "AWS SSM Parameter Store");
      if (selector.version !== undefined) checkSsmVersion(text, selector.version);
    }
    return configureAws(settings, vault, "ssm");
  },
  sandbox: awsSandbox,
  loadFetch: () => import("./fetch.ts"),
  map: (secret, settings) =>
    mapNamed(secret, settings, "/", (path) => flatten(path, secret.value, secret.name)),
};
