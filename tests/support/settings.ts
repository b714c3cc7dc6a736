/**
 * The one builder of {@linkcode ProviderSettings} for unit tests: neutral defaults (no env,
 * no selection, no JSON expansion, no vault credentials, cwd `/`, 30 s per request, a
 * deadline a minute away), each overridable.
 *
 * @module
 */

import type { ProviderSettings } from "../../lib/contract/provider.ts";

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
    vaultCredentials: {},
    cwd: "/",
    requestTimeoutMs: 30_000,
    deadline: Date.now() + deadlineInMs,
    ...rest,
  };
}
