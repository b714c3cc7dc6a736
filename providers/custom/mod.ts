/**
 * The `CUSTOM` backend: a Python script defining `get_secrets()`, which returns a dict of
 * dotted vault paths to values (strings, numbers, booleans or nested dicts).
 *
 * The script runs as its own Python process with the job's environment. A small runner
 * (passed with `-c`) imports it, sends everything the script prints to stderr, and writes
 * the result as JSON on the original stdout, so noise cannot corrupt the result.
 *
 * @module
 */

import { isKind, ToolError } from "../../lib/kit/errors.ts";
import { mapValue, splitKey, stripPrefix } from "../../lib/kit/mapping.ts";
import { parseSeconds, resolveProjectPath } from "../../lib/cli/config.ts";
import type { ParamDoc } from "../../lib/kit/params.ts";
import type {
  FetchContext,
  Provider,
  ProviderSettings,
  SecretValue,
} from "../../lib/contract/provider.ts";

/**
 * The one program the tool may run (the `run` permission in `deno.json`), found on `PATH`.
 * A virtualenv's interpreter is used by putting its `bin` first on `PATH`.
 */
export const PYTHON = "python3";

/** The Python runner: imports the script, calls `get_secrets()`, prints JSON to real stdout. */
const RUNNER = String.raw`
import importlib.util, json, math, os, sys, traceback
MARK = sys.argv[2]
def check(value, key):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError("get_secrets() has a key %r under %r that is not a string" % (type(k).__name__, key or "the top level"))
            out[k] = check(v, k if not key else key + "." + k)
        return out
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2 ** 53 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError("get_secrets() gives %r a number that is not finite" % key)
        return value
    raise TypeError("get_secrets() gives %r a %s; only str, int, float, bool and dict can be stored" % (key, type(value).__name__))
def main():
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    path = sys.argv[1]
    try:
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        spec = importlib.util.spec_from_file_location("custom_secrets_script", path)
        if spec is None or spec.loader is None:
            raise ImportError("cannot load it as a Python module")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        get = getattr(module, "get_secrets", None)
        if not callable(get):
            result = {"error": "the script defines no get_secrets() function"}
        else:
            secrets = get()
            if not isinstance(secrets, dict):
                result = {"error": "get_secrets() returned %s, not a dict" % type(secrets).__name__}
            else:
                result = {"secrets": check(secrets, "")}
    except BaseException as error:
        line = ""
        for frame in traceback.extract_tb(error.__traceback__):
            if os.path.abspath(frame.filename) == os.path.abspath(path):
                line = " (line %d)" % frame.lineno
        result = {"error": "%s: %s%s" % (type(error).__name__, error, line)}
    sys.stderr.flush()
    out.write(MARK + json.dumps(result, allow_nan=False) + "\n")
    out.flush()
main()
`;

/** The custom backend's parameters. */
export const customParams: readonly ParamDoc[] = [
  {
    name: "SECRETS_CUSTOM_SCRIPT",
    meaning:
      "`CUSTOM`: the Python script defining `get_secrets()`; absolute, or relative to `CI_PROJECT_DIR` (else the working folder).",
    flag: "custom-script",
  },
  {
    name: "SECRETS_CUSTOM_TIMEOUT",
    default: "60",
    meaning: "`CUSTOM`: seconds the script may run before it is killed and the run fails.",
  },
];

/** The absolute path of the configured script. */
export function scriptPath(settings: ProviderSettings): string {
  const script = settings.env.SECRETS_CUSTOM_SCRIPT?.trim();
  if (!script) {
    throw new ToolError(
      "config",
      "SECRETS_MANAGER=CUSTOM needs SECRETS_CUSTOM_SCRIPT, the path of a Python file defining get_secrets()",
    );
  }
  return resolveProjectPath(settings, script);
}

/** What the script gave: its secrets, and the lines it printed (shown with `--verbose`). */
interface ScriptResult {
  secrets: Record<string, SecretValue>;
  noise: string[];
}

async function runScript(ctx: FetchContext): Promise<ScriptResult> {
  const { settings } = ctx;
  const path = scriptPath(settings);
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new ToolError("config", `SECRETS_CUSTOM_SCRIPT ${path} is not a file`);
  } catch (error) {
    if (isKind(error, "config")) throw error;
    throw new ToolError("config", `SECRETS_CUSTOM_SCRIPT ${path} does not exist or cannot be read`);
  }
  const timeoutMs = parseSeconds("SECRETS_CUSTOM_TIMEOUT", settings.env.SECRETS_CUSTOM_TIMEOUT, 60);
  const mark = `@@secrets-orchestrator-result-${crypto.randomUUID()}@@`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(PYTHON, {
      args: ["-B", "-c", RUNNER, path, mark],
      cwd: settings.env.CI_PROJECT_DIR || settings.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (isKind(error, "config")) throw error;
    throw new ToolError(
      "config",
      `cannot run ${PYTHON} for the custom script: ${
        error instanceof Error ? error.message : error
      }; install Python 3 and put it on PATH as ${PYTHON}`,
    );
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    throw new ToolError(
      "config",
      `custom script ${path} ran past SECRETS_CUSTOM_TIMEOUT (${
        timeoutMs / 1000
      }s) and was stopped; make it faster or raise the timeout`,
    );
  }
  const at = stdout.lastIndexOf(mark);
  const payload = at < 0 ? undefined : stdout.slice(at + mark.length).trim();
  let result: { secrets?: Record<string, SecretValue>; error?: string } | undefined;
  try {
    result = payload ? JSON.parse(payload) : undefined;
  } catch {
    result = undefined;
  }
  const noise = stderr.split("\n").filter((line) => line.trim() !== "");
  if (result?.error !== undefined) {
    // No value came back, so nothing the script printed can be matched against one.
    for (const line of noise) ctx.log.debug(`custom script: ${line}`);
    throw new ToolError("config", `custom script ${path} failed: ${oneLine(result.error)}`);
  }
  if (!result?.secrets) {
    throw new ToolError(
      "config",
      `custom script ${path} exited with code ${status.code} before returning a result; run it with python to see why`,
    );
  }
  return { secrets: result.secrets, noise };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").slice(0, 500);
}

/** The `CUSTOM` provider. */
export const customProvider: Provider = {
  manager: "CUSTOM",
  params: customParams,
  credentialPaths(settings) {
    scriptPath(settings);
    parseSeconds("SECRETS_CUSTOM_TIMEOUT", settings.env.SECRETS_CUSTOM_TIMEOUT, 60);
    return [];
  },
  sandbox: (settings) => ({ net: [], read: [scriptPath(settings)], run: [PYTHON] }),
  async fetch(ctx) {
    const { secrets, noise } = await runScript(ctx);
    const { filter } = ctx.settings;
    let kept = 0;
    for (const [name, value] of Object.entries(secrets)) {
      if (filter && !name.includes(filter)) {
        // Not loaded, but still a secret: keep it out of the script's printed lines.
        ctx.sensitive(typeof value === "object" ? JSON.stringify(value) : String(value));
        continue;
      }
      ctx.emit({ name, value });
      kept++;
    }
    // Every value is registered for redaction by now, so the script's own lines can follow.
    for (const line of noise) ctx.log.debug(`custom script: ${line}`);
    ctx.log.debug(`custom script returned ${Object.keys(secrets).length} keys, ${kept} kept`);
  },
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
