/**
 * The `AWS_PARAMETER_STORE` backend (SSM Parameter Store): its descriptor. Names map to
 * vault keys with slashes as dots, after `SECRETS_STRIP_PREFIX`; the requests are in
 * `fetch.ts`.
 *
 * @module
 */

import type { Provider } from "../../lib/contract/provider.ts";
import { flatten, nameToPath } from "../../lib/kit/mapping.ts";
import { AWS_PARAMS, type AwsConfig, awsSandbox, configureAws } from "../aws/config.ts";

/** The `AWS_PARAMETER_STORE` provider. */
export const awsParameterStoreProvider: Provider<AwsConfig> = {
  backend: "AWS_PARAMETER_STORE",
  params: AWS_PARAMS,
  configure: (settings, vault) => configureAws(settings, vault, "ssm"),
  sandbox: awsSandbox,
  loadFetch: () => import("./fetch.ts"),
  map: (secret, settings) =>
    flatten(nameToPath(secret.name, "/", settings.stripPrefix), secret.value, secret.name),
};
