/**
 * The `--help` text, built from the documented parameters (the flags that override them)
 * and the exit-code table, so it cannot fall out of step with either.
 *
 * @module
 */

import type { ParamDoc } from "../contract/provider.ts";
import { EXIT_MEANINGS, ExitCode } from "../kit/errors.ts";

/** The `--help` text for `version`, listing the flags of `params`. */
export function helpText(version: string, params: readonly ParamDoc[]): string {
  const flags = params
    .filter((param) => param.flag)
    .map((param) => `  --${param.flag!.padEnd(16)} overrides ${param.name}`);
  const codes = (Object.keys(ExitCode) as (keyof typeof ExitCode)[])
    .sort((a, b) => ExitCode[a] - ExitCode[b])
    .map((kind) => `${ExitCode[kind]} ${EXIT_MEANINGS[kind]}`);
  return [
    `secrets-orchestrator ${version}`,
    "Fetch secrets from a secrets manager and merge them into the pipeline's YAML vault.",
    "",
    "Usage: secrets-orchestrator [load] [--dry-run] [options]",
    "       secrets-orchestrator get PATH [--format yaml|json]",
    "       secrets-orchestrator render FILE [-o OUT]",
    "       secrets-orchestrator export --format dotenv|env|json|yaml|github-env [--prefix P] [PATH]",
    "       secrets-orchestrator export --format files --output-dir DIR [--prefix P] [PATH]",
    "       secrets-orchestrator mask [--ci github|gitlab] [PATH]",
    "       secrets-orchestrator run [--prefix P] [--pristine] [--from-vault] [--no-mask] [PATH ...]",
    "                                -- CMD [ARG ...]",
    "",
    "Commands:",
    "  load               fetch secrets and merge them into the vault (the default)",
    "  get                print one value, or a namespace as YAML or JSON",
    "  render             replace DATAOPS_VAULT(PATH) and {{ PATH }} in FILE with vault values",
    "  export             print (part of) the vault as shell-quoted variables or a document",
    "  mask               print GitHub Actions ::add-mask:: lines for every vault value",
    "  run                fetch secrets (or read the vault: --from-vault) and run CMD with them",
    "                     as variables named as export names them; writes no file; CMD's",
    "                     output is masked (--no-mask: not); --pristine: CMD gets only PATH,",
    "                     HOME and the secrets; exits with CMD's exit code",
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
    "flags override them. docs/parameters.md lists every parameter and its default.",
    `Exit codes: ${codes.join(", ")}.`,
  ].join("\n");
}
