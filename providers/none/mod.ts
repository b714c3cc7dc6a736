/**
 * The `NONE` backend: fetches nothing. The vault is still read and validated.
 *
 * @module
 */

import type { Provider } from "../../lib/contract/provider.ts";

/** The `NONE` provider. */
export const noneProvider: Provider<null> = {
  backend: "NONE",
  params: [],
  configure: () => null,
  sandbox: () => ({ net: [], read: [], run: [] }),
  loadFetch: () => Promise.resolve({ fetchSecrets: () => Promise.resolve() }),
  map: () => [],
};
