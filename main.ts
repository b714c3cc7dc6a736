/**
 * secrets-orchestrator: fetch secrets from a secrets manager and merge them into the
 * pipeline's YAML vault.
 *
 * ```sh
 * SECRETS_MANAGER=CUSTOM SECRETS_CUSTOM_SCRIPT=get_secrets.py secrets-orchestrator --vault vault.yml
 * ```
 *
 * @module
 */

import denoConfig from "./deno.json" with { type: "json" };
import { resolveConfig } from "./lib/cli/config.ts";
import { ExitCode } from "./lib/kit/errors.ts";
import { startCore } from "./lib/isolation/core_host.ts";
import { fetchSecrets, prepareLoad } from "./lib/cli/prepare.ts";
import { createLogger } from "./lib/output/log.ts";
import { Redactor } from "./lib/output/redact.ts";
import { reportFailure } from "./lib/output/report.ts";
import { absolute, commandPermissions } from "./lib/isolation/permissions.ts";
import { allParams } from "./providers/registry.ts";

/** The tool's version. */
export const VERSION: string = denoConfig.version;

/** The `--help` text. */
export function helpText(): string {
  const flags = allParams()
    .filter((param) => param.flag)
    .map((param) => `  --${param.flag!.padEnd(16)} overrides ${param.name}`);
  return [
    `secrets-orchestrator ${VERSION}`,
    "Fetch secrets from a secrets manager and merge them into the pipeline's YAML vault.",
    "",
    "Usage: secrets-orchestrator [load] [--dry-run] [options]",
    "       secrets-orchestrator get PATH [--format yaml|json]",
    "       secrets-orchestrator render FILE [-o OUT]",
    "       secrets-orchestrator export --format dotenv|env|json|yaml [--prefix P] [PATH]",
    "       secrets-orchestrator mask [--ci github|gitlab] [PATH]",
    "",
    "Commands:",
    "  load               fetch secrets and merge them into the vault (the default)",
    "  get                print one value, or a namespace as YAML or JSON",
    "  render             replace DATAOPS_VAULT(PATH) and {{ PATH }} in FILE with vault values",
    "  export             print (part of) the vault as shell-quoted variables or a document",
    "  mask               print GitHub Actions ::add-mask:: lines for every vault value",
    "",
    "Options:",
    "  --dry-run          print which vault keys would be added, changed or left; write nothing",
    "  -q, --quiet        print errors only",
    "  -v, --verbose      print detail (never secret values)",
    "  -h, --help         print this help",
    "  -V, --version      print the version",
    ...flags,
    "",
    "Configuration comes from environment variables (SECRETS_MANAGER, SECRETS_SELECTION, ...);",
    "flags override them. The README lists every parameter, its default and the exit codes:",
    "0 ok, 2 configuration, 3 authentication, 4 backend or network, 5 conflict, 6 vault file.",
  ].join("\n");
}

function print(text: string): void {
  const bytes = new TextEncoder().encode(`${text}\n`);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** Run the tool with `args`; returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    print(helpText());
    return ExitCode.ok;
  }
  if (args.includes("--version") || args.includes("-V")) {
    print(`secrets-orchestrator ${VERSION}`);
    return ExitCode.ok;
  }
  const redactor = new Redactor();
  const env: Record<string, string> = {};
  const params = allParams();
  for (const { name } of params) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  if (env.DATAOPS_VAULT_KEY) redactor.add(env.DATAOPS_VAULT_KEY);
  let log = createLogger({
    verbosity: args.includes("--quiet") || args.includes("-q") ? "quiet" : "normal",
    color: env.NO_COLOR === undefined && Deno.stderr.isTerminal(),
    redactor,
  });
  try {
    const cwd = Deno.cwd();
    const resolved = resolveConfig(args, env, params);
    const config = { ...resolved, vaultPath: absolute(resolved.vaultPath, cwd) };
    log = createLogger({
      verbosity: config.verbosity,
      color: config.color && Deno.stderr.isTerminal(),
      redactor,
      progress: Deno.stderr.isTerminal(),
    });
    const perms = commandPermissions(config, cwd);
    log.debug(
      `run permissions: read=[${perms.read.join(",")}] write=[${perms.write.join(",")}] net=[${
        perms.net.join(",")
      }] run=[${perms.run.join(",")}] env=none`,
    );
    if (config.command !== "load") {
      return await startCore(perms, redactor).run({ config, settings: null });
    }
    const prepared = await prepareLoad(config, cwd, redactor);
    // The backend's Worker starts first (it is on the critical path); the core Worker
    // starts right after it, loads its modules while the backend fetches, and takes each
    // secret as it arrives (after the redactor has learnt its value). Secrets arrive as
    // messages, so the callback never runs before `core` below is initialised.
    const fetching = fetchSecrets(config, prepared, log, redactor, (secret) => core.add(secret));
    const core = startCore(perms, redactor);
    try {
      await fetching;
    } catch (error) {
      core.terminate();
      throw error;
    }
    return await core.run({ config, settings: prepared.settings });
  } catch (error) {
    return reportFailure(error, log);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
