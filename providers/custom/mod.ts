/**
 * The `CUSTOM` backend: a Python script defining `get_secrets()`, which returns a dict of
 * dotted vault paths to values (strings, numbers, booleans or nested dicts). The script
 * runs in its own Python process (see `fetch.ts`).
 *
 * @module
 */

import type { ParamDoc, Provider } from "../../lib/contract/provider.ts";
import { ToolError } from "../../lib/kit/errors.ts";
import { mapValue, splitKey, stripPrefix } from "../../lib/kit/mapping.ts";
import { parseSeconds, resolveProjectPath } from "../../lib/kit/params.ts";

/**
 * The one program this backend runs (its sandbox's `run` permission), found on `PATH`.
 * A virtualenv's interpreter is used by putting its `bin` first on `PATH`.
 */
export const PYTHON = "python3";

/** Seconds the script may run by default (`SECRETS_CUSTOM_TIMEOUT`). */
const DEFAULT_TIMEOUT_SECONDS = 60;

/** The script: its name, what it means, its flag. The configuration reads it by this name. */
const SCRIPT_PARAM: ParamDoc = {
  name: "SECRETS_CUSTOM_SCRIPT",
  meaning:
    "`CUSTOM`: the Python script defining `get_secrets()`; absolute, or relative to `CI_PROJECT_DIR` (else the working folder).",
  flag: "custom-script",
};

/** How long the script may run; its documented default is the one the configuration uses. */
const TIMEOUT_PARAM: ParamDoc = {
  name: "SECRETS_CUSTOM_TIMEOUT",
  default: String(DEFAULT_TIMEOUT_SECONDS),
  meaning: "`CUSTOM`: seconds the script may run before it is killed and the run fails.",
};

/** The custom backend's parameters. */
export const customParams: readonly ParamDoc[] = [SCRIPT_PARAM, TIMEOUT_PARAM];

/** The custom backend's configuration. */
export interface CustomConfig {
  /** The script's absolute path. */
  script: string;
  /** How long it may run, in milliseconds. */
  timeoutMs: number;
  /** The folder it runs in: `CI_PROJECT_DIR`, else the working folder. */
  cwd: string;
}

/** The `CUSTOM` provider. */
export const customProvider: Provider<CustomConfig> = {
  backend: "CUSTOM",
  params: customParams,
  programs: [PYTHON],
  configure(settings) {
    const script = settings.env[SCRIPT_PARAM.name]?.trim();
    if (!script) {
      throw new ToolError(
        "config",
        "SECRETS_MANAGER=CUSTOM needs SECRETS_CUSTOM_SCRIPT, the path of a Python file defining get_secrets()",
      );
    }
    return {
      script: resolveProjectPath(settings, script),
      timeoutMs: parseSeconds(
        TIMEOUT_PARAM.name,
        settings.env[TIMEOUT_PARAM.name],
        DEFAULT_TIMEOUT_SECONDS,
      ),
      cwd: settings.env.CI_PROJECT_DIR || settings.cwd,
    };
  },
  sandbox: (config) => ({ net: [], read: [config.script], run: [PYTHON] }),
  loadFetch: () => import("./fetch.ts"),
  map(secret, settings) {
    const key = stripPrefix(secret.name, settings.stripPrefix);
    if (key === "") {
      throw new ToolError(
        "conflict",
        `secret "${secret.name}" is empty after SECRETS_STRIP_PREFIX`,
      );
    }
    return mapValue(splitKey(key, secret.name), secret, settings.expandJson);
  },
};
