/**
 * Run-time narrowing: the exact files, hosts and programs one run needs, computed from its
 * configuration. Everything after configuration runs in a Worker limited to this set; the
 * backend's own Worker is narrower still (only its {@linkcode SandboxPlan}).
 *
 * @module
 */

import type { Config } from "../commands/config.ts";
import type { SandboxPlan } from "../contract/provider.ts";
import { dirname, encryptedPath, manifestPath, saltPath, tempPathFor } from "../vault/paths.ts";

/** The permissions of one run (absolute paths, `host:port` pairs, program names). */
export interface RunPermissions {
  /** Files the run may read. */
  read: string[];
  /** Files the run may create, replace or remove. */
  write: string[];
  /** Hosts the run may connect to. */
  net: string[];
  /** Programs the run may start. */
  run: string[];
}

/** Resolve `path` against `cwd` unless it is absolute. */
export function absolute(path: string, cwd: string): string {
  return path.startsWith("/") ? path : `${cwd.replace(/\/+$/, "")}/${path}`;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The vault's files: what reading it touches and what writing it touches (the vault, its
 * temp file, its lock, the manifest and its temp file; the encrypted vault and the salt
 * when `DATAOPS_VAULT_KEY` is set). The vault's folder is writable only when it does not
 * exist yet, so the first run can create it.
 */
export function vaultFiles(
  vaultPath: string,
  encrypted: boolean,
): { read: string[]; write: string[] } {
  const enc = encryptedPath(vaultPath);
  const salt = saltPath(vaultPath);
  const manifest = manifestPath(vaultPath);
  const read = [vaultPath, enc, salt, manifest];
  const stored = encrypted ? enc : vaultPath;
  const write = [stored, tempPathFor(stored), `${vaultPath}.lock`, manifest, tempPathFor(manifest)];
  if (encrypted) write.push(salt);
  const dir = dirname(vaultPath);
  if (!exists(dir)) write.push(dir);
  // Replacing a file (remove, rename) also needs read access to it.
  return { read: [...new Set([...read, ...write])], write };
}

/**
 * The permissions the core Worker needs for a command: the vault's files, plus for
 * `render` its template and output, and for `export --format files` its output folder. It never needs the network or a program: the backend
 * runs in its own Worker, limited to its own plan, before the core starts.
 */
export function commandPermissions(
  config: Pick<Config, "command" | "args" | "dryRun" | "vaultPath" | "vaultKey" | "options">,
  cwd: string,
): RunPermissions {
  const files = vaultFiles(config.vaultPath, config.vaultKey !== undefined);
  const perms: RunPermissions = { read: [...files.read], write: [], net: [], run: [] };
  if (config.command === "load") {
    if (!config.dryRun) perms.write.push(...files.write);
  } else if (config.command === "render") {
    if (config.args[0] !== undefined) perms.read.push(absolute(config.args[0], cwd));
    const out = config.options.output;
    if (out !== undefined) {
      const path = absolute(out, cwd);
      perms.write.push(path, tempPathFor(path));
      perms.read.push(path, tempPathFor(path));
    }
  } else if (config.command === "export" && config.options.outputDir !== undefined) {
    // The files' names come from the vault, read only inside the Worker: the folder.
    const dir = absolute(config.options.outputDir, cwd).replace(/(.)\/+$/, "$1");
    perms.write.push(dir);
    perms.read.push(dir);
  }
  return perms;
}

/** Deno Worker permissions granting exactly `perms` and nothing else. */
export function toWorkerPermissions(perms: RunPermissions): Deno.PermissionOptionsObject {
  const list = (items: string[]) => items.length > 0 ? [...new Set(items)] : false;
  return {
    read: list(perms.read),
    write: list(perms.write),
    net: list(perms.net),
    run: list(perms.run),
    env: false,
    sys: false,
    ffi: false,
    import: false,
  };
}

/** The permissions of the backend's Worker: only what its plan names; it never writes. */
export function backendPermissions(plan: SandboxPlan): RunPermissions {
  return { read: plan.read, write: [], net: plan.net, run: plan.run };
}
