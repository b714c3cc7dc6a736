/**
 * Test helpers: run the tool as users do (`deno run -P main.ts`, the production
 * permission set) and check that no secret value reached its output.
 *
 * @module
 */

import assert from "node:assert/strict";
import { derivedForms } from "../lib/output/redact.ts";
import { type ErrorKind, isKind } from "../lib/kit/errors.ts";
import type {
  Provider,
  ProviderSettings,
  SandboxPlan,
  VaultCredentialReader,
} from "../lib/contract/provider.ts";

/** The repository root. */
export const ROOT: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * The Deno flags the binary is compiled with (`make build`), so `deno run` behaves like it:
 * the production permission set, no prompts, and V8's young generation capped at 1 MB per
 * semi-space, which keeps a 10,000-secret load under 150 MB with three isolates.
 * The Makefile's `RUN_FLAGS` must match (a test checks).
 */
export const RUN_FLAGS: readonly string[] = [
  "-P",
  "--no-prompt",
  "--v8-flags=--max-semi-space-size=1",
];

/** What a run of the tool gave. */
export interface RunResult {
  /** Exit code. */
  code: number;
  /** Everything on stdout. */
  stdout: string;
  /** Everything on stderr, less Deno's own config-permissions notice. */
  stderr: string;
}

/** Options for {@linkcode runTool}. */
export interface RunOptions {
  /** Working folder (default: the repository root). */
  cwd?: string;
  /** Extra Deno flags before `main.ts` (default none). */
  denoFlags?: string[];
  /** Send SIGKILL after this many milliseconds. */
  killAfterMs?: number;
}

/**
 * Run `deno run -P main.ts ARGS` with exactly `env` (plus PATH, HOME and DENO_DIR so
 * Deno finds its cache and Python).
 */
export async function runTool(
  args: string[],
  env: Record<string, string>,
  options: RunOptions = {},
): Promise<RunResult> {
  const base: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...RUN_FLAGS, ...(options.denoFlags ?? []), `${ROOT}/main.ts`, ...args],
    cwd: options.cwd ?? ROOT,
    env: { ...base, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (options.killAfterMs !== undefined) {
    timer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
  }
  const output = await child.output();
  clearTimeout(timer);
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return {
    code: output.code,
    stdout: decode(output.stdout),
    stderr: decode(output.stderr)
      .split("\n")
      .filter((line) => !line.includes("Permissions in the config file is an experimental"))
      .join("\n"),
  };
}

/**
 * Assert that no secret value, in any derived form (lines, JSON leaves, base64,
 * URL-encoding), appears in the run's stdout or stderr.
 */
export function assertNoLeak(result: RunResult, secrets: readonly string[]): void {
  const output = `${result.stdout}\n${result.stderr}`;
  for (const secret of secrets) {
    for (const form of derivedForms(secret)) {
      assert.ok(
        !output.includes(form),
        `a secret (form of length ${form.length}) leaked into output`,
      );
    }
  }
}

/** A fresh temporary folder, and a vault path inside it (optionally written with `content`). */
export async function tempVault(content?: string): Promise<{ dir: string; vault: string }> {
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-test-" });
  const vault = `${dir}/vault.yml`;
  if (content !== undefined) await Deno.writeTextFile(vault, content);
  return { dir, vault };
}

/** The file's bytes, or null when it does not exist. */
export async function readBytes(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Assert that the run printed exactly one error line and nothing that looks like a stack. */
export function assertOneErrorLine(result: RunResult, pattern: RegExp): void {
  const errors = result.stderr.split("\n").filter((line) => line.includes("error:"));
  assert.equal(errors.length, 1, `expected one error line, got:\n${result.stderr}`);
  assert.match(errors[0], pattern);
  assert.ok(!/\n\s+at /.test(result.stderr), `stack trace in stderr:\n${result.stderr}`);
}

/** An `assert.throws` matcher for a {@linkcode ToolError} of `kind`. */
export function kindOf(kind: ErrorKind): (error: unknown) => boolean {
  return (error) => isKind(error, kind);
}

/** A vault credential reader over fixed values that records every path it is asked for. */
export function fixedVault(
  values: Readonly<Record<string, string>> = {},
): VaultCredentialReader & { asked: string[] } {
  const asked: string[] = [];
  const reader = (paths: readonly string[]) => {
    asked.push(...paths);
    return Promise.resolve(
      Object.fromEntries(paths.filter((p) => p in values).map((p) => [p, values[p]])),
    );
  };
  return Object.assign(reader, { asked });
}

/** Configure a backend as the main thread does, with `values` as the vault's credentials. */
export async function configured<C>(
  provider: Provider<C>,
  settings: ProviderSettings,
  values: Readonly<Record<string, string>> = {},
): Promise<C> {
  return await provider.configure(settings, fixedVault(values));
}

/** A backend's sandbox plan for `settings`, with `values` as the vault's credentials. */
export async function sandboxOf<C>(
  provider: Provider<C>,
  settings: ProviderSettings,
  values: Readonly<Record<string, string>> = {},
): Promise<SandboxPlan> {
  return provider.sandbox(await configured(provider, settings, values));
}
