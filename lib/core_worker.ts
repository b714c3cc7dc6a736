/**
 * The Worker that runs a command after configuration, with only the permissions this run
 * needs (see `lib/run_plan.ts`): it cannot read environment variables, and it can read,
 * write and reach only the files, hosts and programs its configuration names.
 *
 * @module
 */

import type { CoreMessage, CoreRequest } from "./isolate.ts";
import { createLogger } from "./log.ts";
import { Redactor } from "./redact.ts";
import { runCommand } from "./run.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<CoreRequest>) => void) | null;
  postMessage(message: CoreMessage): void;
};

scope.onmessage = async (event: MessageEvent<CoreRequest>) => {
  scope.onmessage = null;
  const { config, fetched } = event.data;
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
