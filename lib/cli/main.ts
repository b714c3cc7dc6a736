/**
 * The composition root: reads the documented environment, resolves the configuration,
 * and wires the chosen backend into the core. A read-back command runs in the core Worker
 * alone; a load configures the backend here, fetches in the backend Worker, and merges in
 * the core Worker, which starts alongside the fetch.
 *
 * @module
 */

import { resolveConfig } from "./config.ts";
import { helpText } from "./help.ts";
import { allParams } from "./params.ts";
import { versionLine } from "./version.ts";
import { fetchSecrets, type PreparedLoad, prepareLoad } from "./prepare.ts";
import { ExitCode } from "../kit/errors.ts";
import { startCore } from "../isolation/core_host.ts";
import { absolute, commandPermissions } from "../isolation/permissions.ts";
import { createLogger } from "../output/log.ts";
import { Redactor } from "../output/redact.ts";
import { reportFailure } from "../output/report.ts";
import { writeStdout } from "../output/write.ts";
import { PROVIDERS } from "../../providers/registry.ts";

const CORE_ENTRY = new URL("./core_worker.ts", import.meta.url);

/** Run the tool with `args`; returns the exit code. */
export async function main(args: readonly string[], version: string): Promise<number> {
  const params = allParams();
  if (args.includes("--help") || args.includes("-h")) {
    writeStdout(`${helpText(version, params)}\n`);
    return ExitCode.ok;
  }
  if (args.includes("--version") || args.includes("-V")) {
    writeStdout(`${versionLine(version)}\n`);
    return ExitCode.ok;
  }
  const redactor = new Redactor();
  const env: Record<string, string> = {};
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
      return await startCore(CORE_ENTRY, perms, redactor).run({ config, settings: null });
    }
    // The core Worker starts first: loading the vault engine (YAML) is the longest start-up
    // step, so it runs while the main thread configures the backend and the backend
    // Worker starts and fetches. It also reads the credentials a backend keeps in the vault.
    // Secrets arrive as messages, after the redactor has learnt each value.
    const core = startCore(CORE_ENTRY, perms, redactor);
    let prepared: PreparedLoad;
    try {
      prepared = await prepareLoad(
        config,
        PROVIDERS[config.backend],
        cwd,
        redactor,
        (paths) => core.credentials(config, paths),
      );
      await fetchSecrets(config, prepared, log, redactor, (secret) => core.add(secret));
    } catch (error) {
      core.terminate();
      throw error;
    }
    return await core.run({ config, settings: prepared.settings });
  } catch (error) {
    return reportFailure(error, log);
  }
}
