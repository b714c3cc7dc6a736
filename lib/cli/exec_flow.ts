/**
 * The `run` command's flow (main thread): the secrets from the backend, fetched in its
 * sandbox exactly as `load` fetches them but never written, or with `--from-vault` from
 * the vault with the network revoked; then the variables `export` would make of them, and
 * the command started with them in its environment and its output masked.
 *
 * The tool reads only the documented variables (the `env` permission), so the job's other
 * variables reach the command by inheritance: Deno starts a child with the process's
 * environment unless told to clear it, without reading it. An override is reported only
 * for a variable the tool can see (a documented one, `PATH`, `HOME`).
 *
 * @module
 */

import type { Config } from "./config.ts";
import { fetchSecrets, prepareLoad } from "./prepare.ts";
import { readCredentials } from "../commands/credentials.ts";
import type { FetchedSecret, VaultEntry } from "../contract/provider.ts";
import { runChild } from "../commands/exec.ts";
import { childVariables, entriesTree } from "../commands/exec_env.ts";
import type { Logger } from "../output/log.ts";
import type { Redactor } from "../output/redact.ts";
import { checkEntries } from "../vault/merge.ts";
import { openVaultStore } from "../vault/store.ts";
import { leaves, type VaultTree } from "../vault/tree.ts";
import { dropAllButSpawn } from "./privilege.ts";
import { PROVIDERS } from "../../providers/registry.ts";

/** The vault's contents (decrypted when `DATAOPS_VAULT_KEY` is set), with no network. */
async function vaultTree(config: Config, log: Logger, redactor: Redactor): Promise<VaultTree> {
  Deno.permissions.revokeSync({ name: "net" });
  const net = Deno.permissions.querySync({ name: "net" }).state;
  log.debug(`network: ${net === "granted" ? "allowed" : "revoked"} (run --from-vault)`);
  const store = openVaultStore(config.vaultPath, config.vaultKey);
  const vault = await store.read();
  if (vault.text === null) log.warn(`the vault ${store.path} does not exist; it reads as empty`);
  const tree = vault.doc.tree();
  for (const leaf of leaves(tree)) redactor.add(leaf.value);
  return tree;
}

/** The secrets fetched from the backend, mapped to vault keys, in memory only. */
async function fetchedTree(
  config: Config,
  cwd: string,
  log: Logger,
  redactor: Redactor,
): Promise<VaultTree> {
  const provider = PROVIDERS[config.backend];
  // `run` has no core Worker: the credentials a backend keeps in the vault are read here.
  const prepared = await prepareLoad(
    config,
    provider,
    cwd,
    redactor,
    (paths) => readCredentials(config, paths),
  );
  const secrets: FetchedSecret[] = [];
  await fetchSecrets(config, prepared, log, redactor, (secret) => secrets.push(secret));
  const entries: VaultEntry[] = secrets.flatMap((secret) =>
    provider.map(secret, prepared.settings)
  );
  const checked = checkEntries(entries);
  log.info(`fetched ${secrets.length} secrets, ${checked.length} keys (not written)`);
  return entriesTree(checked);
}

/**
 * Run `config.child` with the secrets in its environment; resolves with its exit code.
 * `env` holds the documented variables that are set (what the tool may read).
 */
export async function runWithSecrets(
  config: Config,
  env: Readonly<Record<string, string>>,
  cwd: string,
  log: Logger,
  redactor: Redactor,
): Promise<number> {
  const { fromVault, pristine, noMask, prefix } = config.options;
  const tree = fromVault
    ? await vaultTree(config, log, redactor)
    : await fetchedTree(config, cwd, log, redactor);
  const where = fromVault ? config.vaultPath : `fetched from ${config.backend}`;
  const variables = childVariables(tree, config.args, prefix ?? "", where);
  const base: Record<string, string> = {};
  if (pristine) {
    for (const name of ["PATH", "HOME"]) if (env[name] !== undefined) base[name] = env[name];
  }
  const names = Object.keys(variables);
  const seen = pristine ? base : env;
  const overridden = names.filter((name) => Object.hasOwn(seen, name));
  if (overridden.length > 0) {
    log.warn(`run: ${overridden.join(", ")} already set; the command gets the secret instead`);
  }
  if (noMask) {
    log.warn("--no-mask: the command's output is not masked; a secret it prints shows in the log");
  }
  const program = config.child[0];
  log.info(`running ${program} with ${names.length} secret variables`);
  log.debug(
    `run: ${program} gets ${names.join(", ") || "no variables"}${pristine ? " (pristine)" : ""}`,
  );
  log.debug(dropAllButSpawn());
  return await runChild(
    {
      command: config.child,
      env: { ...base, ...variables },
      clearEnv: pristine === true,
      mask: !noMask,
    },
    redactor,
    log,
  );
}
