/**
 * Every documented parameter: the general ones (`general_params.ts`) and each backend's.
 * For `--help`, a command line (whose flags include a backend's) and the tests; it loads
 * every backend's descriptor, which a load configured by the environment alone does
 * without.
 *
 * @module
 */

import type { ParamDoc } from "../contract/provider.ts";
import { PROVIDERS } from "../../providers/registry.ts";
import { GENERAL_PARAMS } from "./general_params.ts";

/** Every documented parameter: the general ones, then each backend's (each name once). */
export function allParams(): ParamDoc[] {
  const seen = new Set<string>();
  const out: ParamDoc[] = [];
  for (const param of [...GENERAL_PARAMS, ...Object.values(PROVIDERS).flatMap((p) => p.params)]) {
    if (seen.has(param.name)) continue;
    seen.add(param.name);
    out.push(param);
  }
  return out;
}
