/**
 * One backend's descriptor, loaded on its own: a Worker needs only the configured
 * backend's, and loading all six (with the parameter parsers each brings) is the largest
 * part of a Worker's start-up. The main thread, which documents every parameter, uses
 * `registry.ts`. Only the composition root (`lib/cli/`) imports this module.
 *
 * @module
 */

import type { Backend, Provider } from "../lib/contract/provider.ts";

/**
 * The descriptor of `backend` (the literal specifiers let `deno compile` embed each).
 *
 * @example
 * ```ts ignore
 * const provider = await loadProvider("NONE");
 * ```
 */
export async function loadProvider(backend: Backend): Promise<Provider> {
  switch (backend) {
    case "AWS_SECRETS_MANAGER":
      return (await import("./aws_secrets_manager/mod.ts")).awsSecretsManagerProvider;
    case "AWS_PARAMETER_STORE":
      return (await import("./aws_parameter_store/mod.ts")).awsParameterStoreProvider;
    case "AZURE_KEY_VAULT":
      return (await import("./azure_key_vault/mod.ts")).azureKeyVaultProvider;
    case "HASHICORP_VAULT":
      return (await import("./hashicorp_vault/mod.ts")).hashicorpVaultProvider;
    case "CUSTOM":
      return (await import("./custom/mod.ts")).customProvider;
    case "NONE":
      return (await import("./none/mod.ts")).noneProvider;
  }
}
