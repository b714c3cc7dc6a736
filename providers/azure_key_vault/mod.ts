/**
 * The `AZURE_KEY_VAULT` backend: its descriptor. Secrets are read through the Key Vault
 * REST API with a Microsoft Entra token (`fetch.ts`).
 *
 * Names map to vault keys with dashes as separators (`SNOWFLAKE-TRANSFORM-USERNAME` →
 * `SNOWFLAKE.TRANSFORM.USERNAME`); keys with other characters are reached through JSON
 * values and `SECRETS_EXPAND_JSON`.
 *
 * @module
 */

import type { Provider } from "../../lib/contract/provider.ts";
import { ToolError } from "../../lib/kit/errors.ts";
import { parseSelector, refuseStraySemicolon } from "../../lib/kit/selector.ts";
import { mapNamed, mapValue } from "../../lib/kit/mapping.ts";
import { tokenNet, tokenRead } from "../../lib/kit/oidc.ts";
import { azureParams, type AzurePlan, azurePlan, hostPort } from "../azure/settings.ts";

/** Key Vault secret names: 1-127 letters, digits and dashes. */
const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;

/** Key Vault secret versions: 32 hex digits. */
const SECRET_VERSION = /^[0-9A-Fa-f]{32}$/;

function checkSelection(selection: readonly string[]): void {
  for (const text of selection) {
    const selector = parseSelector(text);
    refuseStraySemicolon(text, selector, "Key Vault");
    const { name, version } = selector;
    if (!SECRET_NAME.test(name)) {
      throw new ToolError(
        "config",
        `SECRETS_SELECTION names "${name}", which is not a Key Vault secret name (1-127 letters, digits and dashes)`,
      );
    }
    if (version !== undefined && !SECRET_VERSION.test(version)) {
      throw new ToolError(
        "config",
        `SECRETS_SELECTION entry "${text}" has ;version=${version}, which is not a Key Vault secret version (32 hex digits, the last part of the secret's id)`,
      );
    }
  }
}

/** The `AZURE_KEY_VAULT` provider. */
export const azureKeyVaultProvider: Provider<AzurePlan> = {
  backend: "AZURE_KEY_VAULT",
  params: azureParams,
  configure(settings, vault) {
    checkSelection(settings.selection);
    return azurePlan(settings, vault);
  },
  sandbox(plan) {
    const { auth } = plan;
    const net = [hostPort(plan.vault)];
    const read: string[] = [];
    switch (auth.kind) {
      case "imds":
      case "app_service":
        net.push(hostPort(auth.endpoint));
        break;
      case "client_secret":
        net.push(hostPort(auth.tokenUrl));
        break;
      case "certificate":
        net.push(hostPort(auth.tokenUrl));
        read.push(auth.path);
        break;
      case "federated":
        net.push(hostPort(auth.tokenUrl), ...tokenNet(auth.token));
        read.push(...tokenRead(auth.token));
        break;
    }
    return { net, read, run: [] };
  },
  loadFetch: () => import("./fetch.ts"),
  map: (secret, settings) =>
    mapNamed(secret, settings, "-", (path) => mapValue(path, secret, settings.expandJson)),
};
