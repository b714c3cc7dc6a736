/**
 * Masking on GitHub Actions during `load`: when `GITHUB_ACTIONS=true` (and `SECRETS_MASK`
 * is not off), every fetched value and its derived forms are registered with the runner as
 * the value arrives, before the merge or any later step can print it. The runner reads
 * workflow commands (`::add-mask::VALUE`) from a step's stdout, as `@actions/core` writes
 * them.
 *
 * @module
 */

import type { FetchedSecret } from "../contract/provider.ts";
import { parseBool } from "../kit/params.ts";
import { githubMasks } from "../commands/mask.ts";
import { leaves } from "../vault/tree.ts";
import { writeStdout } from "../output/write.ts";

/**
 * The masker of this run: prints the `::add-mask::` lines of each fetched secret on stdout,
 * or undefined when not on GitHub Actions or `SECRETS_MASK` is off.
 */
export function githubMasker(
  env: Readonly<Record<string, string>>,
): ((secret: FetchedSecret) => void) | undefined {
  if (env.GITHUB_ACTIONS?.trim().toLowerCase() !== "true") return undefined;
  if (!parseBool("SECRETS_MASK", env.SECRETS_MASK, true)) return undefined;
  const seen = new Set<string>();
  return (secret) => {
    const lines = githubMasks(leaves(secret.value, [secret.name]), seen);
    if (lines !== "") writeStdout(lines);
  };
}
