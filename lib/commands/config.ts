/**
 * The resolved configuration of one run, as the commands take it. The command line and the
 * environment are parsed into it by `lib/cli/config.ts`.
 *
 * @module
 */

import type { Backend, ProviderSettings } from "../contract/provider.ts";
import type { Verbosity } from "../output/log.ts";
import type { Command } from "./spec.ts";

export type { Command } from "./spec.ts";

/** The resolved configuration of one run. */
export interface Config {
  /** The command (`load` by default). */
  command: Command;
  /** Arguments after the command. */
  args: string[];
  /** `run`: the program and its arguments (what follows `--`); empty for other commands. */
  child: string[];
  /** `--dry-run`: print the plan, write nothing. */
  dryRun: boolean;
  /** How much to print. */
  verbosity: Verbosity;
  /** Whether colours may be used. */
  color: boolean;
  /** The backend (`SECRETS_MANAGER`). */
  backend: Backend;
  /** The vault file. */
  vaultPath: string;
  /** How long to wait for another run's lock, in milliseconds. */
  lockTimeoutMs: number;
  /** How long the whole fetch may take, in milliseconds. */
  timeoutMs: number;
  /** `DATAOPS_VAULT_KEY`: set means the vault is stored encrypted. Never given to providers. */
  vaultKey?: string;
  /**
   * Command-specific flags: `--format`, `--output`, `--output-dir`, `--prefix`, `--ci`, and
   * `run`'s `--pristine`, `--from-vault` and `--no-mask`.
   */
  options: {
    format?: string;
    output?: string;
    outputDir?: string;
    prefix?: string;
    ci?: string;
    pristine?: boolean;
    fromVault?: boolean;
    noMask?: boolean;
  };
  /** What the backend is given (the working folder and deadline are added at the start). */
  settings: Omit<ProviderSettings, "deadline" | "cwd">;
}
