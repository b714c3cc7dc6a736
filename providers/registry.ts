/**
 * The registry of backends: every backend's descriptor by its `SECRETS_MANAGER` value.
 * Adding a backend is adding its folder and one line here. Only the composition root
 * (`main.ts`, `lib/cli/`) imports this module.
 *
 * @module
 */

import type { Backend, Provider } from "../lib/contract/provider.ts";
import { awsParameterStoreProvider } from "./aws_parameter_store/mod.ts";
import { awsSecretsManagerProvider } from "./aws_secrets_manager/mod.ts";
import { azureKeyVaultProvider } from "./azure_key_vault/mod.ts";
import { customProvider } from "./custom/mod.ts";
import { hashicorpVaultProvider } from "./hashicorp_vault/mod.ts";
import { noneProvider } from "./none/mod.ts";

/** Every backend, by its `SECRETS_MANAGER` value, in documentation order. */
export const PROVIDERS: Readonly<Record<Backend, Provider>> = {
  AWS_SECRETS_MANAGER: awsSecretsManagerProvider,
  AWS_PARAMETER_STORE: awsParameterStoreProvider,
  AZURE_KEY_VAULT: azureKeyVaultProvider,
  HASHICORP_VAULT: hashicorpVaultProvider,
  CUSTOM: customProvider,
  NONE: noneProvider,
};
