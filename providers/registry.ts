/**
 * The registry of backends. Adding a backend is adding its module and one line here.
 *
 * @module
 */

import { ToolError } from "../lib/kit/errors.ts";
import { GENERAL_PARAMS, type ParamDoc } from "../lib/kit/params.ts";
import { awsParameterStoreProvider } from "./aws_parameter_store/mod.ts";
import { awsSecretsManagerProvider } from "./aws_secrets_manager/mod.ts";
import { azureKeyVaultProvider } from "./azure_key_vault/mod.ts";
import { customProvider } from "./custom/mod.ts";
import { hashicorpVaultProvider } from "./hashicorp_vault/mod.ts";
import { noneProvider } from "./none/mod.ts";
import type { Manager, Provider } from "../lib/contract/provider.ts";

/** Every backend, by its `SECRETS_MANAGER` value. */
export const PROVIDERS: Readonly<Record<Manager, Provider>> = {
  AWS_SECRETS_MANAGER: awsSecretsManagerProvider,
  AWS_PARAMETER_STORE: awsParameterStoreProvider,
  AZURE_KEY_VAULT: azureKeyVaultProvider,
  HASHICORP_VAULT: hashicorpVaultProvider,
  CUSTOM: customProvider,
  NONE: noneProvider,
};

/** The provider for a manager; a manager without one is a configuration error. */
export function getProvider(manager: Manager): Provider {
  const provider = PROVIDERS[manager];
  if (!provider) {
    throw new ToolError(
      "config",
      `SECRETS_MANAGER=${manager} is not available in this build; use one of ${
        Object.keys(PROVIDERS).join(", ")
      }`,
    );
  }
  return provider;
}

/** Every documented parameter: the general ones, then each backend's. */
export function allParams(): ParamDoc[] {
  const seen = new Set<string>();
  const out: ParamDoc[] = [];
  for (const param of [...GENERAL_PARAMS, ...Object.values(PROVIDERS).flatMap((p) => p.params)]) {
    if (seen.has(param.name)) continue;
    seen.add(param.name);
    out.push(param);
  }
  return out;
}
