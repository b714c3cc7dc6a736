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
  // A load with nothing to fetch starts its one Worker first, while the rest loads.
  const { startEarlyCore } = await import("./lib/cli/early_core.ts");
  const early = startEarlyCore(Deno.args, (name) => Deno.env.get(name), Deno.cwd());
  // Not a literal: `deno run` then reads this module graph only when it is needed, not for
  // `--version`. `deno compile` embeds it through `--include` (Makefile).
  const cli = "./lib/cli/main.ts";
  const { main }: typeof import("./lib/cli/main.ts") = await import(cli);
  const envNames = denoConfig.permissions.default.env;
  Deno.exit(await main(Deno.args, { version: VERSION, envNames }, early));
}
