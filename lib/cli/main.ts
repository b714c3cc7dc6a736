/**
 * The composition root: reads the documented environment, resolves the configuration,
 * and wires the chosen backend into the core. A read-back command runs in the core Worker
 * alone; a load configures the backend here, fetches in the backend Worker, and merges in
 * the core Worker, which starts alongside the fetch.
 *
 * @module
 */

import { resolveConfig } from "./config.ts";
import { GENERAL_PARAMS } from "./general_params.ts";
import { versionLine } from "./version.ts";
import { fetchSecrets, learnVaultValues, type PreparedLoad, prepareLoad } from "./prepare.ts";
import { githubMasker } from "./ci_mask.ts";
import { dropSpawn, spawnDrop, spawnReport } from "./privilege.ts";
import { checkVaultLocation } from "./vault_location.ts";
import { checkVaultKey } from "../vault/crypto.ts";
import { ExitCode } from "../kit/errors.ts";
import { type CoreWorker, startCore } from "../isolation/core_host.ts";
import { CORE_ENTRY, type EarlyCore, samePermissions } from "./early_core.ts";
import { absolute, commandPermissions } from "../isolation/permissions.ts";
import { createLogger } from "../output/log.ts";
import { Redactor } from "../output/redact.ts";
import { reportFailure } from "../output/report.ts";
import { writeStdout } from "../output/write.ts";
import { loadProvider } from "../../providers/loaders.ts";

/** `text` percent-decoded, or as it is where it is not valid percent-encoding. */
function decodedOrSame(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The password and query values of a variable that holds a URL: messages never quote them
 * (`quoteUrl`), and the redactor masks them wherever else they might appear.
 */
function urlSecrets(value: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) return [];
  try {
    const url = new URL(value.trim());
    const found = [...url.searchParams.values()];
    if (url.password) found.push(url.password, decodedOrSame(url.password));
    return found;
  } catch {
    return [];
  }
}

/** What `main.ts` tells the flow about the tool. */
export interface ToolInfo {
  /** The tool's version. */
  version: string;
  /**
   * Every variable the tool may read (the `env` permission, which the tests hold equal to
   * the documented parameters): read here without loading every backend's descriptor.
   */
  envNames: readonly string[];
}

/**
 * Run the tool with `args`; returns the exit code. `early` is the core Worker `main.ts`
 * started before this module loaded (see `early_core.ts`), if any.
 */
export async function main(
  args: readonly string[],
  { version, envNames }: ToolInfo,
  early?: EarlyCore,
): Promise<number> {
  // What follows `--` is `run`'s command and its own flags.
  const own = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (own.includes("--help") || own.includes("-h")) {
    const [{ allParams }, { helpText }] = await Promise.all([
      import("./params.ts"),
      import("./help.ts"),
    ]);
    writeStdout(`${helpText(version, allParams())}\n`);
    return ExitCode.ok;
  }
  if (own.includes("--version") || own.includes("-V")) {
    writeStdout(`${versionLine(version)}\n`);
    return ExitCode.ok;
  }
  // Values are added only once `log` exists, so the redactor's warning always has a logger.
  const redactor = early?.redactor ?? new Redactor((message) => log.warn(message));
  early?.onWarning((message) => log.warn(message));
  const env: Record<string, string> = {};
  for (const name of envNames) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  let log = createLogger({
    verbosity: own.includes("--quiet") || own.includes("-q") ? "quiet" : "normal",
    color: env.NO_COLOR === undefined && Deno.stderr.isTerminal(),
    redactor,
  });
  if (env.DATAOPS_VAULT_KEY) redactor.add(env.DATAOPS_VAULT_KEY);
  for (const value of Object.values(env)) redactor.add(urlSecrets(value));
  try {
    const cwd = Deno.cwd();
    // A command line may hold any backend's flag; the environment alone needs only the
    // general parameters here, and then the configured backend's descriptor.
    const params = own.length > 0 ? (await import("./params.ts")).allParams() : GENERAL_PARAMS;
    const resolved = await resolveConfig(args, env, params);
    const config = { ...resolved, vaultPath: absolute(resolved.vaultPath, cwd) };
    const provider = await loadProvider(config.backend);
    // Before anything is read: only `run` (and a backend's own program) may start one.
    const drop = spawnDrop(config, provider);
    if (drop === "at-start") dropSpawn();
    log = createLogger({
      verbosity: config.verbosity,
      color: config.color && Deno.stderr.isTerminal(),
      redactor,
      progress: Deno.stderr.isTerminal(),
    });
    const perms = commandPermissions(config, cwd);
    // The early Worker serves only a load with exactly these permissions.
    let core: CoreWorker | undefined;
    if (early !== undefined) {
      if (config.command === "load" && samePermissions(early.perms, perms)) core = early.core;
      else early.core.terminate();
    }
    // `run` starts no core Worker; it reports its own permissions before the command starts.
    if (config.command !== "run") {
      log.debug(
        `run permissions: read=[${perms.read.join(",")}] write=[${perms.write.join(",")}] net=[${
          perms.net.join(",")
        }] run=[${perms.run.join(",")}] env=none`,
      );
    }
    log.debug(spawnReport(drop));
    if (config.command === "run") {
      // Loaded only for `run`: it brings the vault engine into the main thread.
      const { runWithSecrets } = await import("./exec_flow.ts");
      return await runWithSecrets(config, env, cwd, log, redactor);
    }
    if (config.command !== "load") {
      return await startCore(CORE_ENTRY, perms, redactor).run({ config, settings: null });
    }
    // Both before any network call: a weak key or a bad location fails at once.
    if (config.vaultKey !== undefined) checkVaultKey(config.vaultKey);
    checkVaultLocation(config.vaultPath, config.vaultKey !== undefined, config.dryRun);
    if (config.backend === "CUSTOM" && config.verbosity === "verbose") {
      await learnVaultValues(config, redactor);
    }
    const mask = githubMasker(config.settings.env);
    // The backend Worker starts first: its fetch is the longest step, and each Worker's
    // start blocks this thread about 15 ms. So the credentials a backend keeps in a vault
    // of our own form are read here; from any other vault the core Worker, started for
    // that, reads them.
    const coreWorker = () => core ??= startCore(CORE_ENTRY, perms, redactor);
    let prepared: PreparedLoad;
    try {
      prepared = await prepareLoad(
        config,
        provider,
        cwd,
        redactor,
        async (paths) => {
          const { readOwnFormCredentialsSync } = await import("../commands/credentials.ts");
          return readOwnFormCredentialsSync(config, paths) ??
            await coreWorker().credentials(config, paths);
        },
      );
      // The core Worker starts while the backend fetches, and takes the secrets as
      // messages after the redactor has learnt each value.
      const fetching = fetchSecrets(config, prepared, log, redactor, (secret) => {
        mask?.(secret);
        // Set below: no message from the backend is handled before this function awaits.
        core!.add(secret);
      });
      coreWorker().map(config.backend, prepared.settings);
      // Parsed while the backend fetches (a `NONE` load has no fetch to hide it behind).
      if (config.vaultKey === undefined && config.backend !== "NONE") {
        coreWorker().readAhead(config.vaultPath);
      }
      // The backend's Worker has started with its own programs, which it keeps.
      if (drop === "after-backend-start") {
        dropSpawn();
        log.debug(spawnReport(drop));
      }
      await fetching;
    } catch (error) {
      core?.terminate();
      throw error;
    }
    return await coreWorker().run({ config, settings: prepared.settings });
  } catch (error) {
    return reportFailure(error, log);
  }
}
