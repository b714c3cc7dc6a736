/**
 * The commands, their arguments and their flags: checked before anything is read, so a
 * mistyped command line fails at once with a message saying what is accepted.
 *
 * @module
 */

import { ToolError } from "../kit/errors.ts";

/** The commands the tool runs. */
export type Command = "load" | "get" | "render" | "export" | "mask" | "run";

/** What one command accepts. */
interface CommandSpec {
  /**
   * Positional arguments: names, a trailing `?` marks an optional one, a trailing `...`
   * any number (the last only).
   */
  args: string[];
  /** Command-specific flags it accepts, with their allowed values (empty: any value). */
  flags: Record<string, readonly string[]>;
}

/** Output formats of `get`. */
export const GET_FORMATS: readonly string[] = ["yaml", "json"];
/** Output formats of `export`. */
export const EXPORT_FORMATS: readonly string[] = [
  "dotenv",
  "env",
  "json",
  "yaml",
  "github-env",
  "files",
];
/** CI systems of `mask`. */
export const MASK_SYSTEMS: readonly string[] = ["github", "gitlab"];

/** Every command, by name. */
export const COMMANDS: Readonly<Record<Command, CommandSpec>> = {
  load: { args: [], flags: { "dry-run": [] } },
  get: { args: ["PATH"], flags: { format: GET_FORMATS } },
  render: { args: ["FILE"], flags: { output: [] } },
  export: { args: ["PATH?"], flags: { format: EXPORT_FORMATS, prefix: [], "output-dir": [] } },
  mask: { args: ["PATH?"], flags: { ci: MASK_SYSTEMS } },
  run: {
    args: ["PATH..."],
    flags: { prefix: [], pristine: [], "from-vault": [], "no-mask": [] },
  },
};

/** Flags that belong to one command or another (the rest are global). */
export const COMMAND_FLAGS: readonly string[] = [
  "dry-run",
  "format",
  "output",
  "output-dir",
  "prefix",
  "ci",
  "pristine",
  "from-vault",
  "no-mask",
];

/**
 * Check a command line: a known command, the right number of arguments, only its own
 * flags, and accepted flag values. `child` is what follows `--` (undefined: no `--`),
 * which only `run` takes. Returns the command.
 */
export function checkCommand(
  name: string,
  args: readonly string[],
  values: Readonly<Record<string, unknown>>,
  child?: readonly string[],
): Command {
  const names = Object.keys(COMMANDS);
  if (!names.includes(name)) {
    throw new ToolError(
      "config",
      `unknown command "${name}"; the commands are: ${names.join(", ")}`,
    );
  }
  const command = name as Command;
  const spec = COMMANDS[command];
  const required = spec.args.filter((arg) => !arg.endsWith("?") && !arg.endsWith("...")).length;
  if (args.length < required) {
    throw new ToolError(
      "config",
      `${command} needs ${spec.args[args.length]}: secrets-orchestrator ${command} ${
        spec.args.join(" ")
      }`,
    );
  }
  const variadic = spec.args.at(-1)?.endsWith("...") === true;
  if (!variadic && args.length > spec.args.length) {
    throw new ToolError("config", `unexpected argument "${args[spec.args.length]}"; see --help`);
  }
  for (const flag of COMMAND_FLAGS) {
    const value = values[flag];
    if (value === undefined) continue;
    const allowed = spec.flags[flag];
    if (allowed === undefined) {
      throw new ToolError("config", `--${flag} does not apply to ${command}; see --help`);
    }
    if (allowed.length > 0 && !allowed.includes(String(value))) {
      throw new ToolError(
        "config",
        `--${flag} ${JSON.stringify(String(value))} is not accepted by ${command}; use one of ${
          allowed.join(", ")
        }`,
      );
    }
  }
  if (command === "run" && (child === undefined || child.length === 0)) {
    throw new ToolError(
      "config",
      "run needs a command after --: secrets-orchestrator run [PATH ...] -- CMD [ARG ...]",
    );
  }
  if (command !== "run" && child !== undefined) {
    throw new ToolError("config", `${command} takes no command after --; see --help`);
  }
  if (command === "export" && values.format === undefined) {
    throw new ToolError("config", `export needs --format, one of ${EXPORT_FORMATS.join(", ")}`);
  }
  if (
    command === "export" && (values.format === "files") !== (values["output-dir"] !== undefined)
  ) {
    throw new ToolError(
      "config",
      values.format === "files"
        ? "export --format files needs --output-dir DIR, the folder to write one file per key into"
        : "--output-dir applies only to export --format files",
    );
  }
  return command;
}
