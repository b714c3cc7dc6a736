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
import { main } from "./lib/cli/main.ts";

/** The tool's version. */
export const VERSION: string = denoConfig.version;

if (import.meta.main) {
  Deno.exit(await main(Deno.args, VERSION));
}
