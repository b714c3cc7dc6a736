/**
 * A CUSTOM-backend data source for end-to-end tests: a Python script returning the given
 * secrets, read from a JSON file in a folder of its own (so scanning the vault's folder
 * for plaintext never finds the test's own source data).
 *
 * @module
 */

import { removeAll } from "./temp.ts";

/** A custom script serving `secrets`, in a folder removed when disposed. */
export interface CustomSource extends AsyncDisposable {
  /** The script's path. */
  script: string;
  /** Its folder. */
  dir: string;
  /** Change the secrets it serves. */
  set(secrets: Record<string, unknown>): Promise<void>;
}

/** A custom script serving `secrets`; returns the script path and a way to change them. */
export async function customSource(secrets: Record<string, unknown>): Promise<CustomSource> {
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-source-" });
  const script = `${dir}/get_secrets.py`;
  await Deno.writeTextFile(
    script,
    [
      "import json, os",
      "def get_secrets():",
      "    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'secrets.json'), encoding='utf-8') as f:",
      "        return json.load(f)",
      "",
    ].join("\n"),
  );
  const set = (next: Record<string, unknown>) =>
    Deno.writeTextFile(`${dir}/secrets.json`, JSON.stringify(next));
  await set(secrets);
  return { script, dir, set, [Symbol.asyncDispose]: () => removeAll(dir) };
}

/** The environment of a CUSTOM load into `vault`. */
export function customEnv(
  script: string,
  vault: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SECRETS_MANAGER: "CUSTOM",
    SECRETS_CUSTOM_SCRIPT: script,
    SECRETS_VAULT_PATH: vault,
    ...extra,
  };
}

/** Run `sh -c SCRIPT` in `cwd`; returns stdout exactly. */
export async function sh(script: string, cwd: string): Promise<string> {
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    cwd,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(`sh failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}
