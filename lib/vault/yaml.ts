/**
 * The `yaml` package, with the environment hidden from npm code first.
 *
 * `yaml` prints every token it parses to stdout when `LOG_TOKENS` or `LOG_STREAM` is set
 * (its debugging switches); for the vault that would print secret values. So npm code
 * sees an empty `process.env`: only our own code reads the environment, through
 * `Deno.env`, and only the documented variables. Import YAML through this module.
 *
 * @module
 */

import process from "node:process";

Object.defineProperty(process, "env", {
  value: Object.freeze({}),
  configurable: false,
  writable: false,
});

export {
  Document,
  isMap,
  isScalar,
  isSeq,
  type Node,
  Pair,
  parseDocument,
  Scalar,
  type ScalarTag,
  stringify,
  type Tags,
  YAMLMap,
} from "yaml";
