/**
 * The Worker that runs a command after configuration, with only the permissions this run
 * needs (see `lib/run_plan.ts`): it cannot read environment variables, and it can read,
 * write and reach only the files, hosts and programs its configuration names.
 *
 * @module
 */

import type { CoreInput, CoreMessage } from "../isolation/core_host.ts";
import { createLogger } from "../output/log.ts";
import { Redactor } from "../output/redact.ts";
import { runCommand } from "../commands/run.ts";
import type { FetchedSecret } from "../contract/provider.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<CoreInput>) => void) | null;
  postMessage(message: CoreMessage): void;
};

// The secrets arrive one by one while the backend fetches; the run request comes last.
const secrets: FetchedSecret[] = [];

scope.onmessage = async (event: MessageEvent<CoreInput>) => {
  const input = event.data;
  if (input.type === "secret") {
    secrets.push(input.secret);
    return;
  }
  scope.onmessage = null;
  const { config, settings } = input.request;
  const fetched = settings === null ? null : { settings, secrets };
  const redactor = new Redactor();
  if (config.vaultKey) redactor.add(config.vaultKey);
  const terminal = Deno.stderr.isTerminal();
  const log = createLogger({
    verbosity: config.verbosity,
    color: config.color && terminal,
    redactor,
    progress: terminal,
    // The main thread redacts again with every fetched value before printing.
    write: (text) => scope.postMessage({ type: "stderr", text }),
  });
  const code = await runCommand(config, fetched, log, redactor);
  scope.postMessage({ type: "exit", code });
};
