/**
 * The one builder of {@linkcode ProviderSettings} for unit tests: neutral defaults (no env,
 * no selection, no JSON expansion, cwd `/`, 30 s per request, a
 * deadline a minute away), each overridable.
 *
 * @module
 */

import type {
  Provider,
  ProviderSettings,
  SandboxPlan,
  VaultCredentialReader,
} from "../../lib/contract/provider.ts";

/** What {@linkcode testSettings} accepts: any field, and the deadline as a delay. */
export type SettingsOverrides = Partial<ProviderSettings> & {
  /** Milliseconds from now to the deadline (default 60,000; ignored when `deadline` is given). */
  deadlineInMs?: number;
};

/** Provider settings for a test: the defaults above, overridden by `overrides`. */
export function testSettings(overrides: SettingsOverrides = {}): ProviderSettings {
  const { deadlineInMs = 60_000, ...rest } = overrides;
  return {
    env: {},
    selection: [],
    expandJson: false,
    cwd: "/",
    requestTimeoutMs: 30_000,
    deadline: Date.now() + deadlineInMs,
    ...rest,
  };
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
