/**
 * The `AWS_SECRETS_MANAGER` backend: its descriptor and how secret names and values map to
 * vault keys; the requests are in `fetch.ts`.
 *
 * @module
 */

import type {
  FetchedSecret,
  Provider,
  ProviderSettings,
  VaultEntry,
} from "../../lib/contract/provider.ts";
import { ToolError } from "../../lib/kit/errors.ts";
import { flatten, mapPicked, nameToPath } from "../../lib/kit/mapping.ts";
import { parseSelector, refuseStraySemicolon } from "../../lib/kit/selector.ts";
import { AWS_PARAMS, type AwsConfig, awsSandbox, configureAws } from "../aws/config.ts";

/**
 * Map a secret: a JSON object gives one key per JSON key (or, expanded, keys below its
 * name); a selector's `;field=` and `;key=` apply first (`docs/selectors.md`).
 */
export function mapSecret(secret: FetchedSecret, settings: ProviderSettings): VaultEntry[] {
  const path = () => nameToPath(secret.name, "/", settings.stripPrefix);
  return mapPicked(secret, settings, path, (under) => mapWhole(secret, settings, path, under));
}

/** The whole secret; below `under` (a selector's `;key=`) a JSON object is always expanded. */
function mapWhole(
  secret: FetchedSecret,
  settings: ProviderSettings,
  named: () => string[],
  under?: string[],
): VaultEntry[] {
  const path = () => under ?? named();
  const { value } = secret;
  if (typeof value !== "string" || secret.encoding === "base64") {
    return flatten(path(), value, secret.name);
  }
  let parsed: unknown;
  if (value.trimStart().startsWith("{")) {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ToolError(
        "conflict",
        `secret "${secret.name}" looks like JSON but does not parse; fix the secret's value`,
      );
    }
  }
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
    return settings.expandJson || under !== undefined
      ? flatten(path(), parsed, secret.name)
      : flatten([], parsed, secret.name);
  }
  return flatten(path(), value, secret.name);
}

/** The `AWS_SECRETS_MANAGER` provider. */
export const awsSecretsManagerProvider: Provider<AwsConfig> = {
  backend: "AWS_SECRETS_MANAGER",
  params: AWS_PARAMS,
  configure(settings, vault) {
    for (const text of settings.selection) {
      refuseStraySemicolon(text, parseSelector(text), "AWS Secrets Manager");
    }
    return configureAws(settings, vault, "secretsmanager");
  },
  sandbox: awsSandbox,
  loadFetch: () => import("./fetch.ts"),
  map: mapSecret,
};
