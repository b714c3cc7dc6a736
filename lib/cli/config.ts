/**
 * Configuration: the command line and the documented environment variables, resolved into
 * one {@linkcode Config}. Flags override environment variables; unknown values are errors
 * that list the accepted ones.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ToolError } from "../kit/errors.ts";
import { FALSE_WORDS, type ParamDoc, TRUE_WORDS } from "../kit/params.ts";
import type { Verbosity } from "../output/log.ts";
import type { Manager, ProviderSettings } from "../contract/provider.ts";
import { checkCommand, type Command } from "../commands/spec.ts";

export type { Command } from "../commands/spec.ts";

/** Every `SECRETS_MANAGER` value, in documentation order. */
export const MANAGERS: readonly Manager[] = [
  "AWS_SECRETS_MANAGER",
  "AWS_PARAMETER_STORE",
  "AZURE_KEY_VAULT",
  "HASHICORP_VAULT",
  "CUSTOM",
  "NONE",
];

/** The resolved configuration of one run. */
export interface Config {
  /** The command (`load` by default). */
  command: Command;
  /** Arguments after the command. */
  args: string[];
  /** `--help`. */
  help: boolean;
  /** `--version`. */
  version: boolean;
  /** `--dry-run`: print the plan, write nothing. */
  dryRun: boolean;
  /** How much to print. */
  verbosity: Verbosity;
  /** Whether colours may be used. */
  color: boolean;
  /** The backend. */
  manager: Manager;
  /** The vault file. */
  vaultPath: string;
  /** How long to wait for another run's lock, in milliseconds. */
  lockTimeoutMs: number;
  /** How long the whole fetch may take, in milliseconds. */
  timeoutMs: number;
  /** `DATAOPS_VAULT_KEY`: set means the vault is stored encrypted. Never given to providers. */
  vaultKey?: string;
  /** Command-specific flags: `--format`, `--output`, `--prefix`, `--ci`. */
  options: { format?: string; output?: string; prefix?: string; ci?: string };
  /** What the provider is given (its vault credentials are filled in later). */
  settings: Omit<ProviderSettings, "vaultCredentials" | "deadline" | "cwd">;
}

/** Read every documented variable that is set. Undocumented ones are never read. */
export function readEnv(params: readonly ParamDoc[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { name } of params) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Parse a boolean parameter (`1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`, any case). */
export function parseBool(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new ToolError(
    "config",
    `${name}=${JSON.stringify(value)} is not a boolean; use one of ${
      [...TRUE_WORDS, ...FALSE_WORDS.filter(Boolean)].join(", ")
    }`,
  );
}

/** Parse a positive number of seconds into milliseconds. */
export function parseSeconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === "") return fallback * 1000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new ToolError(
      "config",
      `${name}=${JSON.stringify(value)} is not a positive number of seconds`,
    );
  }
  return Math.round(seconds * 1000);
}

/** Split a comma-separated list, trimming items and dropping empty ones. */
export function splitList(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

/**
 * Resolve the configuration from the command line and the environment.
 *
 * @param argv The command-line arguments (without the program name).
 * @param env The documented environment variables that are set.
 * @param params Every documented parameter (for the flags that override them).
 */
export function resolveConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  params: readonly ParamDoc[],
): Config {
  const flagged = params.filter((param) => param.flag !== undefined);
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean", short: "V" },
    "dry-run": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
    verbose: { type: "boolean", short: "v" },
    format: { type: "string" },
    output: { type: "string", short: "o" },
    prefix: { type: "string" },
    ci: { type: "string" },
  };
  for (const param of flagged) {
    options[param.flag!] = { type: param.flag === "expand-json" ? "boolean" : "string" };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ToolError("config", `${message}; see --help`);
  }
  const { values, positionals } = parsed;
  const merged: Record<string, string> = { ...env };
  for (const param of flagged) {
    const value = values[param.flag!];
    if (value !== undefined) merged[param.name] = String(value);
  }

  const [first, ...rest] = positionals;
  const command = checkCommand(first ?? "load", rest, values);
  const { DATAOPS_VAULT_KEY: vaultKey, ...providerEnv } = merged;

  const managerText = (merged.SECRETS_MANAGER ?? "").trim() || "AWS_SECRETS_MANAGER";
  const manager = MANAGERS.find((m) => m === managerText.toUpperCase());
  if (!manager) {
    throw new ToolError(
      "config",
      `SECRETS_MANAGER=${JSON.stringify(managerText)} is not a backend; use one of ${
        MANAGERS.join(", ")
      }`,
    );
  }
  if (values.quiet && values.verbose) {
    throw new ToolError("config", "--quiet and --verbose contradict each other; use one");
  }
  const secretsDir = merged.DATAOPS_SECRETS_DIR || "/secrets";
  const vaultPath = merged.SECRETS_VAULT_PATH || `${secretsDir.replace(/\/+$/, "")}/vault.yml`;

  return {
    command,
    args: rest,
    help: values.help === true,
    version: values.version === true,
    dryRun: values["dry-run"] === true,
    verbosity: values.quiet ? "quiet" : values.verbose ? "verbose" : "normal",
    color: env.NO_COLOR === undefined,
    manager,
    vaultPath,
    lockTimeoutMs: parseSeconds("SECRETS_LOCK_TIMEOUT", merged.SECRETS_LOCK_TIMEOUT, 60),
    timeoutMs: parseSeconds("SECRETS_TIMEOUT", merged.SECRETS_TIMEOUT, 300),
    vaultKey,
    options: {
      format: values.format as string | undefined,
      output: values.output as string | undefined,
      prefix: values.prefix as string | undefined,
      ci: values.ci as string | undefined,
    },
    settings: {
      env: providerEnv,
      selection: splitList(merged.SECRETS_SELECTION),
      filter: merged.SECRETS_SELECTION_FILTER || undefined,
      stripPrefix: merged.SECRETS_STRIP_PREFIX || undefined,
      expandJson: parseBool("SECRETS_EXPAND_JSON", merged.SECRETS_EXPAND_JSON, false),
      allowMissing: parseBool("SECRETS_ALLOW_MISSING", merged.SECRETS_ALLOW_MISSING, false),
      requestTimeoutMs: parseSeconds("SECRETS_REQUEST_TIMEOUT", merged.SECRETS_REQUEST_TIMEOUT, 30),
    },
  };
}

/**
 * Parse a whole-number parameter between `min` and `max`; unset or empty gives `fallback`.
 *
 * @example
 * ```ts
 * parseWholeNumber("SECRETS_AWS_CONCURRENCY", "16", 8, 1, 64); // 16
 * ```
 */
export function parseWholeNumber(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const trimmed = text?.trim();
  if (!trimmed) return fallback;
  const value = Number(trimmed);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ToolError(
      "config",
      `${name}=${JSON.stringify(trimmed)} is not a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

/** Parse an `http://` or `https://` URL parameter; anything else is an error naming it. */
export function parseHttpUrl(name: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ToolError("config", `${name}=${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ToolError(
      "config",
      `${name}=${JSON.stringify(text)} must be an http:// or https:// URL`,
    );
  }
  return url;
}

/** The `host:port` a URL connects to, as Deno's net permission spells it. */
export function hostPort(url: URL | string): string {
  const parsed = typeof url === "string" ? new URL(url) : url;
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  return `${parsed.hostname}:${port}`;
}

/**
 * Resolve a configured file path: absolute as it is, else relative to `CI_PROJECT_DIR`
 * when set, else to the working folder.
 */
export function resolveProjectPath(
  settings: Pick<ProviderSettings, "env" | "cwd">,
  path: string,
): string {
  if (path.startsWith("/")) return path;
  const base = settings.env.CI_PROJECT_DIR || settings.cwd;
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\.\//, "")}`;
}
