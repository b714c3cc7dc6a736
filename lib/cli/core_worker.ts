/**
 * The core Worker's entry point: runs one command with only the permissions this run needs
 * (see `lib/isolation/permissions.ts`): it cannot read environment variables, and it can
 * read and write only the files its configuration names. For `load` it takes the fetched
 * secrets as they arrive and maps them with the backend's descriptor.
 *
 * @module
 */

import type { FetchedSecret } from "../contract/provider.ts";
import { readCredentials } from "../commands/credentials.ts";
import { toErrorData } from "../kit/errors.ts";
import { runCommand } from "../commands/run.ts";
import type { CoreInput, CoreMessage } from "../isolation/protocol.ts";
import { createLogger } from "../output/log.ts";
import { Redactor } from "../output/redact.ts";
import { loadProvider } from "../../providers/loaders.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<CoreInput>) => void) | null;
  postMessage(message: CoreMessage): void;
};

// The secrets arrive one by one while the backend fetches; the run request comes last.
const secrets: FetchedSecret[] = [];

scope.onmessage = async (event: MessageEvent<CoreInput>) => {
  const input = event.data;
  if (input.type === "secrets") {
    for (const secret of input.secrets) secrets.push(secret);
    return;
  }
  if (input.type === "credentials") {
    const { id } = input;
    try {
      const values = await readCredentials(input, input.paths);
      scope.postMessage({ type: "credentials", id, values });
    } catch (error) {
      scope.postMessage({ type: "credentials", id, error: toErrorData(error) });
    }
    return;
  }
  scope.onmessage = null;
  const { config, settings } = input.request;
  const fetched = settings === null
    ? null
    : { settings, secrets, provider: await loadProvider(config.backend) };
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
