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
import { versionLine } from "./lib/cli/version.ts";

/** The tool's version. */
export const VERSION: string = denoConfig.version;

if (import.meta.main) {
  // What follows `--` belongs to `run`'s command.
  const dash = Deno.args.indexOf("--");
  const own = dash < 0 ? Deno.args : Deno.args.slice(0, dash);
  if (own.includes("--version") || own.includes("-V")) {
    // Answered before the rest of the tool is loaded.
    console.log(versionLine(VERSION));
    Deno.exit(0);
  }
  const { main } = await import("./lib/cli/main.ts");
  Deno.exit(await main(Deno.args, VERSION));
}
