/**
 * The core Worker of a `NONE` load, started before the rest of the tool loads. Such a load
 * fetches nothing: the vault work is all of it, so its Worker (about 12 ms to create, then
 * its own modules) is the first thing to start, and its modules load while the main thread
 * loads its own. Only a load configured by the environment alone qualifies, where the
 * Worker's permissions follow from two variables; the flow adopts the Worker only if the
 * permissions it computes from the full configuration are the same.
 *
 * @module
 */

import { type CoreWorker, startCore } from "../isolation/core_host.ts";
import { absolute, commandPermissions, type RunPermissions } from "../isolation/permissions.ts";
import { Redactor } from "../output/redact.ts";
import { vaultPathOf } from "./vault_location.ts";

/** The core Worker's entry module. */
export const CORE_ENTRY: URL = new URL("./core_worker.ts", import.meta.url);

/** A core Worker started early, with the permissions it was given. */
export interface EarlyCore {
  /** The Worker, waiting for its first message. */
  core: CoreWorker;
  /** Its permissions. */
  perms: RunPermissions;
  /** The redactor that masks its stderr lines: the run's redactor. */
  redactor: Redactor;
  /** Where the redactor's one warning goes (set once the run's logger exists). */
  onWarning(handler: (message: string) => void): void;
}

/**
 * Start the core Worker now if `args` and the environment (`read`) make this a `NONE` load
 * of a plain vault: no arguments, `SECRETS_MANAGER=NONE`, `DATAOPS_VAULT_KEY` unset.
 * Returns undefined for any other run.
 *
 * @example
 * ```ts ignore
 * const early = startEarlyCore(Deno.args, (name) => Deno.env.get(name), Deno.cwd());
 * ```
 */
export function startEarlyCore(
  args: readonly string[],
  read: (name: string) => string | undefined,
  cwd: string,
): EarlyCore | undefined {
  if (args.length > 0) return undefined;
  if ((read("SECRETS_MANAGER") ?? "").trim().toUpperCase() !== "NONE") return undefined;
  if (read("DATAOPS_VAULT_KEY") !== undefined) return undefined;
  const vaultPath = absolute(
    vaultPathOf(read("SECRETS_VAULT_PATH"), read("DATAOPS_SECRETS_DIR")),
    cwd,
  );
  const perms = commandPermissions({
    command: "load",
    args: [],
    dryRun: false,
    vaultPath,
    vaultKey: undefined,
    options: {},
  }, cwd);
  let warn: (message: string) => void = () => {};
  const redactor = new Redactor((message) => warn(message));
  return {
    core: startCore(CORE_ENTRY, perms, redactor),
    perms,
    redactor,
    onWarning(handler) {
      warn = handler;
    },
  };
}

/** Whether two permission sets grant the same (same entries, in the same order). */
export function samePermissions(a: RunPermissions, b: RunPermissions): boolean {
  return JSON.stringify([a.read, a.write, a.net, a.run]) ===
    JSON.stringify([b.read, b.write, b.net, b.run]);
}
