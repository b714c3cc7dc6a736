/**
 * A diagnostic for the Key Vault row of `make bench`: the tool's request pattern with
 * nothing else, so the tool's own overhead can be told from the harness's. Against the
 * benchmark's Key Vault fake (same latency, same limits), a bare client in a process of
 * its own walks the list pages one after another, either alone or firing each page's 25
 * reads alongside the next page as the tool does, and prints the list chain's time.
 *
 * ```sh
 * deno run -A bench/key_vault_bare.ts [N=1000] [L=10]
 * ```
 *
 * @module
 */

import { BACKENDS } from "./backends.ts";
import { ROOT } from "../tests/support/run_tool.ts";

/** The bare client (runs in its own process): `client BASE IDENTITY MODE`. */
async function client(base: string, identity: string, mode: string): Promise<string> {
  const tokenUrl = new URL(`${identity}/metadata/identity/oauth2/token`);
  tokenUrl.searchParams.set("api-version", "2018-02-01");
  tokenUrl.searchParams.set("resource", "https://vault.azure.net");
  const token = await (await fetch(tokenUrl, { headers: { Metadata: "true" } })).json();
  const init = { headers: { Authorization: `Bearer ${token.access_token}` } };
  const start = performance.now();
  const reads: Promise<unknown>[] = [];
  let pages = 0;
  let next: string | undefined = `${base}/secrets?api-version=7.6&maxresults=25`;
  while (next) {
    const page = await (await fetch(next, init)).json() as {
      value: { id: string }[];
      nextLink?: string;
    };
    pages++;
    next = page.nextLink || undefined;
    if (mode !== "reads") continue;
    for (const item of page.value) {
      const name = item.id.split("/").pop();
      reads.push(fetch(`${base}/secrets/${name}?api-version=7.6`, init).then((r) => r.json()));
    }
  }
  const chain = performance.now() - start;
  await Promise.all(reads);
  const total = performance.now() - start;
  return `${mode === "reads" ? "list with reads" : "list alone"}: ${pages} pages in ${
    chain.toFixed(0)
  } ms (${(chain / pages).toFixed(1)} ms a page), all answers in ${total.toFixed(0)} ms`;
}

if (import.meta.main) {
  if (Deno.args[0] === "client") {
    console.log(await client(Deno.args[1], Deno.args[2], Deno.args[3]));
  } else {
    const n = Number(Deno.args[0] ?? 1000);
    const latency = Number(Deno.args[1] ?? 10);
    const keyVault = BACKENDS.find((b) => b.id === "kv")!;
    for (const mode of ["alone", "reads", "alone", "reads"]) {
      const fixture = await keyVault.start(n, latency);
      try {
        const output = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-net=127.0.0.1",
            `${ROOT}/bench/key_vault_bare.ts`,
            "client",
            fixture.env.SECRETS_AZURE_KEY_VAULT_URL,
            fixture.env.AZURE_POD_IDENTITY_AUTHORITY_HOST,
            mode,
          ],
          stdout: "piped",
        }).output();
        console.log(new TextDecoder().decode(output.stdout).trim());
      } finally {
        await fixture.close();
      }
    }
  }
}
