/**
 * Giving up the permission to start programs. `deno.json` grants it for any program,
 * because `run` starts the command it is given; every other command revokes it in the
 * main thread before it reads any input (the vault, a template, a backend's answer).
 *
 * Deno revokes a whole descriptor or a named one, and revoking one program leaves a grant
 * for every program in place, so "every program but python3" cannot be expressed. A load
 * whose backend starts a program (`CUSTOM`: `python3`) therefore keeps the permission only
 * until its backend Worker has started with exactly that program, then revokes it: a
 * Worker keeps the permissions it was created with.
 *
 * @module
 */

import type { Config } from "../commands/config.ts";
import type { Provider } from "../contract/provider.ts";

/** When this run gives up starting programs. */
export type SpawnDrop = "at-start" | "after-backend-start" | "after-child-start";

/** When `config`'s run revokes the permission to start programs. */
export function spawnDrop(config: Config, provider: Provider): SpawnDrop {
  if (config.command === "run") return "after-child-start";
  if (config.command === "load" && (provider.programs?.length ?? 0) > 0) {
    return "after-backend-start";
  }
  return "at-start";
}

/** Revoke the permission to start programs in this thread (Workers started later get none). */
export function dropSpawn(): void {
  Deno.permissions.revokeSync({ name: "run" });
}

const WHEN: Readonly<Record<SpawnDrop, string>> = {
  "at-start": "before any input is read",
  "after-backend-start": "kept until the backend Worker has started with its program",
  "after-child-start": "kept until the command has started",
};

/** The `--verbose` line on starting programs: the permission as Deno reports it, and why. */
export function spawnReport(drop: SpawnDrop): string {
  const state = Deno.permissions.querySync({ name: "run" }).state;
  return `starting programs: ${state === "granted" ? "allowed" : "revoked"} (${WHEN[drop]})`;
}

const STARTED_ALONE: readonly ("read" | "write" | "net" | "env")[] = [
  "read",
  "write",
  "net",
  "env",
];

/**
 * Before `run` starts its command: give up reading and writing files, the network and the
 * environment (the command inherits the environment without the tool reading it), so the
 * main thread that masks the command's output can do nothing else. Returns the
 * `--verbose` line with the permissions as Deno then reports them.
 */
export function dropAllButSpawn(): string {
  for (const name of STARTED_ALONE) Deno.permissions.revokeSync({ name });
  const states = STARTED_ALONE.map((name) => {
    const state = Deno.permissions.querySync({ name }).state;
    return `${name} ${state === "granted" ? "allowed" : "revoked"}`;
  });
  return `run: before the command starts: ${states.join(", ")}`;
}
