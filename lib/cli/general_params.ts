/**
 * The parameters every backend shares. Every environment variable the tool reads is listed
 * here or in a backend's `params`; `docs/parameters.md` and the `env` permission in
 * `deno.json` are checked against these lists by the tests. No backend's descriptor is
 * loaded with them.
 *
 * @module
 */

import type { ParamDoc } from "../contract/provider.ts";

/** Parameters shared by every backend. */
export const GENERAL_PARAMS: readonly ParamDoc[] = [
  {
    name: "SECRETS_MANAGER",
    default: "AWS_SECRETS_MANAGER",
    meaning:
      "Backend: `AWS_SECRETS_MANAGER`, `AWS_PARAMETER_STORE`, `AZURE_KEY_VAULT`, `HASHICORP_VAULT`, `CUSTOM` or `NONE`.",
    flag: "manager",
  },
  {
    name: "SECRETS_SELECTION",
    meaning:
      "Comma-separated selectors: secret names (AWS Secrets Manager, Azure), path prefixes (SSM), `MOUNT/PATH` (Vault), each optionally with `;version=`, `;field=` and `;key=` (docs/selectors.md). Unset: every secret.",
    flag: "selection",
  },
  {
    name: "SECRETS_SELECTION_FILTER",
    meaning: "Keep only secrets whose name contains this string.",
    flag: "filter",
  },
  {
    name: "SECRETS_STRIP_PREFIX",
    meaning: "Removed from the start of secret names before they are mapped to vault keys.",
    flag: "strip-prefix",
  },
  {
    name: "SECRETS_EXPAND_JSON",
    default: "false",
    meaning:
      "`1`/`true`/`yes` (any case): a value that is a JSON object is merged below the secret's vault path.",
    flag: "expand-json",
  },
  {
    name: "SECRETS_ALLOW_MISSING",
    default: "false",
    meaning:
      "`1`/`true`/`yes` (any case): a selector in `SECRETS_SELECTION` that names no existing secret is skipped with a warning instead of failing the run.",
  },
  {
    name: "SECRETS_VAULT_PATH",
    default: "`$DATAOPS_SECRETS_DIR/vault.yml`",
    meaning: "The vault file to merge into.",
    flag: "vault",
  },
  {
    name: "DATAOPS_SECRETS_DIR",
    default: "/secrets",
    meaning: "Folder of the vault when `SECRETS_VAULT_PATH` is unset.",
  },
  {
    name: "SECRETS_LOCK_TIMEOUT",
    default: "60",
    meaning: "Seconds to wait for another run's lock on the vault before giving up.",
  },
  {
    name: "SECRETS_TIMEOUT",
    default: "300",
    meaning: "Seconds the whole fetch may take before the run fails (nothing is written).",
  },
  {
    name: "SECRETS_REQUEST_TIMEOUT",
    default: "30",
    meaning: "Seconds one request to the backend may take before it is retried or fails.",
  },
  {
    name: "CI_PROJECT_DIR",
    meaning: "Project root: relative `SECRETS_CUSTOM_SCRIPT` paths are resolved against it.",
  },
  {
    name: "DATAOPS_VAULT_KEY",
    meaning:
      "When set, the vault is stored encrypted in `vault.yml.enc` (JWE, key derived with HKDF-SHA-256 and `vault.salt`); use 16+ random characters.",
  },
  {
    name: "GITHUB_ACTIONS",
    meaning:
      "Set to `true` by GitHub Actions: `load` then prints `::add-mask::` lines for every fetched value and its derived forms.",
  },
  {
    name: "SECRETS_MASK",
    default: "true",
    meaning: "`0`/`false`: on GitHub Actions, `load` does not print `::add-mask::` lines.",
  },
  {
    name: "NO_COLOR",
    meaning: "When set (to anything), output has no colour.",
  },
  {
    name: "PATH",
    meaning:
      "Read only by `run --pristine`, which gives it to the command (the one variable besides `HOME` and the secrets).",
  },
  {
    name: "HOME",
    meaning:
      "Read only by `run --pristine`, which gives it to the command (the one variable besides `PATH` and the secrets).",
  },
];
