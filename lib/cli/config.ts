/**
 * Configuration: the command line and the documented environment variables, resolved into
 * one {@linkcode Config}. Flags override environment variables; unknown values are errors
 * that list the accepted ones.
 *
 * @module
 */

import { BACKENDS, type ParamDoc } from "../contract/provider.ts";
import { checkCommand } from "../commands/spec.ts";
import type { Config } from "../commands/config.ts";
import { ToolError } from "../kit/errors.ts";
import { parseBool, parseSeconds, splitList } from "../kit/params.ts";
import { vaultPathOf } from "./vault_location.ts";

export type { Config } from "../commands/config.ts";

/**
 * Resolve the configuration from the command line and the environment.
 *
 * @param argv The command-line arguments (without the program name).
 * @param env The documented environment variables that are set.
 * @param params Every documented parameter (for the flags that override them).
 */
export async function resolveConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  params: readonly ParamDoc[],
): Promise<Config> {
  const flagged = params.filter((param) => param.flag !== undefined);
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean", short: "V" },
    "dry-run": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
    verbose: { type: "boolean", short: "v" },
    format: { type: "string" },
    output: { type: "string", short: "o" },
    "output-dir": { type: "string" },
    prefix: { type: "string" },
    ci: { type: "string" },
    pristine: { type: "boolean" },
    "from-vault": { type: "boolean" },
    "no-mask": { type: "boolean" },
  };
  for (const param of flagged) {
    options[param.flag!] = { type: param.flag === "expand-json" ? "boolean" : "string" };
  }
  // What follows the first `--` is `run`'s command, taken as it is.
  const dash = argv.indexOf("--");
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const child = dash < 0 ? undefined : argv.slice(dash + 1);
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    // Node's parser is loaded only for a command line (about 6 ms of start-up): a CI job
    // usually configures the load through the environment alone.
    parsed = own.length === 0 ? { values: {}, positionals: [] } : (await import("node:util"))
      .parseArgs({ args: [...own], options, allowPositionals: true, strict: true });
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
  const command = checkCommand(first ?? "load", rest, values, child);
  const { DATAOPS_VAULT_KEY: vaultKey, ...providerEnv } = merged;

  const backendText = (merged.SECRETS_MANAGER ?? "").trim() || "AWS_SECRETS_MANAGER";
  const backend = BACKENDS.find((name) => name === backendText.toUpperCase());
  if (!backend) {
    throw new ToolError(
      "config",
      `SECRETS_MANAGER=${JSON.stringify(backendText)} is not a backend; use one of ${
        BACKENDS.join(", ")
      }`,
    );
  }
  if (values.quiet && values.verbose) {
    throw new ToolError("config", "--quiet and --verbose contradict each other; use one");
  }
  const vaultPath = vaultPathOf(merged.SECRETS_VAULT_PATH, merged.DATAOPS_SECRETS_DIR);

  return {
    command,
    args: rest,
    child: child ?? [],
    dryRun: values["dry-run"] === true,
    verbosity: values.quiet ? "quiet" : values.verbose ? "verbose" : "normal",
    color: env.NO_COLOR === undefined,
    backend,
    vaultPath,
    lockTimeoutMs: parseSeconds("SECRETS_LOCK_TIMEOUT", merged.SECRETS_LOCK_TIMEOUT, 60),
    timeoutMs: parseSeconds("SECRETS_TIMEOUT", merged.SECRETS_TIMEOUT, 300),
    vaultKey,
    options: {
      format: values.format as string | undefined,
      output: values.output as string | undefined,
      outputDir: values["output-dir"] as string | undefined,
      prefix: values.prefix as string | undefined,
      ci: values.ci as string | undefined,
      pristine: values.pristine === true || undefined,
      fromVault: values["from-vault"] === true || undefined,
      noMask: values["no-mask"] === true || undefined,
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
