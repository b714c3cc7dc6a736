/**
 * Running one command once its configuration is resolved: the load (with its dry-run
 * report) or a read-back command. Errors become their documented exit codes and one
 * redacted line on stderr.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { dryRunLines } from "./dry_run.ts";
import { ExitCode } from "../kit/errors.ts";
import { reportFailure } from "../output/report.ts";
import { mergeSecrets } from "./load.ts";
import type { Logger } from "../output/log.ts";
import type { Redactor } from "../output/redact.ts";
import { writeStdout } from "../output/write.ts";
import type { MappedSecrets } from "../vault/manifest.ts";
import type { StoredVault } from "../vault/store.ts";

/**
 * The fetched half of a load, handed to the core Worker: the secrets mapped to vault
 * entries as they arrived. Throws the mapping's error (reported as the load's failure).
 */
export type Fetched = () => MappedSecrets;

/**
 * Run the configured command; returns the exit code. `fetched` is required for `load`;
 * `ahead` is a read of the plain vault made while the backend fetched, if any.
 */
export async function runCommand(
  config: Config,
  fetched: Fetched | null,
  log: Logger,
  redactor: Redactor,
  ahead?: Promise<StoredVault>,
): Promise<number> {
  try {
    // A load never needs the read-back commands' modules (a literal specifier, so
    // `deno compile` embeds them). The load's own modules stay static: the core Worker
    // loads them at its start, while the backend fetches.
    if (config.command !== "load") {
      const { runReadCommand } = await import("./read.ts");
      await runReadCommand(config, log, redactor);
      return ExitCode.ok;
    }
    if (fetched === null) throw new Error("load has no fetched secrets");
    const result = await mergeSecrets(config, fetched, log, ahead);
    if (config.dryRun) {
      const lines = dryRunLines(result.plan, result.provenance, result.previous);
      if (lines.length > 0) writeStdout(`${lines.join("\n")}\n`);
      log.info(
        `dry run: ${result.plan.added.length} to add, ${result.plan.changed.length} to change, ${result.plan.unchanged.length} unchanged; nothing written`,
      );
    }
    return ExitCode.ok;
  } catch (error) {
    return reportFailure(error, log);
  }
}
