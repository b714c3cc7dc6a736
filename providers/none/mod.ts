/**
 * The `NONE` backend: fetches nothing. The vault is still read and validated.
 *
 * @module
 */

import type { Provider } from "../../lib/contract/provider.ts";

/** The `NONE` provider. */
export const noneProvider: Provider = {
  manager: "NONE",
  params: [],
  credentialPaths: () => [],
  sandbox: () => ({ net: [], read: [], run: [] }),
  fetch: () => Promise.resolve(),
  map: () => [],
};
