/**
 * The read-back commands (`get`, `render`, `export`, `mask`): open the vault in its
 * configured form (decrypting it when `DATAOPS_VAULT_KEY` is set), register every value
 * with the redactor so no log line or error can carry one, and print the result on
 * stdout, which is these commands' purpose.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { Logger } from "../output/log.ts";
import type { Redactor } from "../output/redact.ts";
import { writeStdout } from "../output/write.ts";
import { writeAtomicSync } from "../vault/file.ts";
import { openVaultStore } from "../vault/store.ts";
import { isTree, leaves, lookup } from "../vault/tree.ts";
import { exportFiles, exportText } from "./export.ts";
import { getText } from "./get.ts";
import { githubMasks, GITLAB_NOTICE } from "./mask.ts";
import { checkPath, missingKey } from "./paths.ts";
import { readTemplate, renderTemplate } from "./render.ts";

/** Run a read-back command as configured. Throws typed errors; prints only on success. */
export async function runReadCommand(
  config: Config,
  log: Logger,
  redactor: Redactor,
): Promise<void> {
  const store = openVaultStore(config.vaultPath, config.vaultKey);
  const vault = await store.read();
  const where = vault.exists ? store.path : vault.text !== null ? store.plainPath : store.path;
  if (vault.text === null) log.warn(`the vault ${store.path} does not exist; it reads as empty`);
  log.debug(`vault ${where}: read${store.encrypted && vault.exists ? " and decrypted" : ""}`);
  const tree = vault.doc.tree();
  const all = leaves(tree);
  for (const leaf of all) redactor.add(leaf.value);
  const { options, args } = config;

  switch (config.command) {
    case "get":
      writeStdout(getText(tree, args[0], options.format, where, Deno.stdout.isTerminal()));
      return;
    case "export":
      if (options.format === "files") {
        const dir = options.outputDir!;
        const names = await exportFiles(tree, args[0], options.prefix ?? "", where, dir);
        log.info(`exported ${names.length} keys to ${dir}, one file each (mode 0600)`);
        return;
      }
      writeStdout(exportText(tree, args[0], options.format!, options.prefix ?? "", where));
      return;
    case "render": {
      const file = args[0];
      const text = renderTemplate(await readTemplate(file), tree, file);
      if (options.output === undefined) {
        writeStdout(text);
      } else {
        writeAtomicSync(options.output, text, "the rendered file");
        log.info(`rendered ${file} to ${options.output} (mode 0600)`);
      }
      return;
    }
    case "mask": {
      if ((options.ci ?? "github") === "gitlab") {
        log.warn(GITLAB_NOTICE);
        return;
      }
      let found = all;
      if (args[0] !== undefined) {
        checkPath(args[0]);
        const node = lookup(tree, args[0]);
        if (node === undefined) throw missingKey(args[0], where);
        found = isTree(node) ? leaves(node) : leaves(node, [args[0]]);
      }
      writeStdout(githubMasks(found));
      log.debug(`mask: ${found.length} values`);
      return;
    }
    default:
      throw new Error(`not a read-back command: ${config.command}`);
  }
}
