import assert from "node:assert/strict";
import { explainPermission, fileErrorCause } from "../lib/kit/errors.ts";

Deno.test("Deno's permission text, as deno run and a compiled binary word it, becomes plain words", () => {
  const forms = [
    'Requires read access to "/etc/ca.pem", run again with the --allow-read flag',
    'NotCapable: Requires read access to "/etc/ca.pem", run again with the --allow-read flag',
    'Requires read access to "/etc/ca.pem", specify the required permissions during compilation using `deno compile --allow-read`',
  ];
  for (const text of forms) {
    const out = explainPermission(`cannot read the CA: ${text}; fix it`);
    assert.equal(
      out,
      "cannot read the CA: the tool may not read /etc/ca.pem: it is outside the files this run's configuration names; fix it",
    );
  }
  const all = explainPermission(
    'unexpected failure (NotCapable: Requires all access to "/proc/self/environ", run again with the --allow-all flag); please report it',
  );
  assert.match(all, /the tool may not open \/proc\/self\/environ: \/proc, \/dev and \/sys/);
  assert.ok(!/--allow|NotCapable|deno compile/.test(all), all);
  assert.match(
    explainPermission(
      'Requires net access to "evil.example:443", run again with the --allow-net flag',
    ),
    /^the tool may not connect to evil\.example:443: only the hosts/,
  );
  assert.equal(explainPermission("nothing to do here"), "nothing to do here");
});

Deno.test("file errors are described without Deno's flag advice", () => {
  const notCapable = new Deno.errors.NotCapable(
    'Requires read access to "/x", run again with the --allow-read flag',
  );
  assert.equal(
    fileErrorCause(notCapable),
    "it is outside the files this run's configuration names",
  );
  assert.equal(fileErrorCause(new Deno.errors.NotFound("x")), "it does not exist");
  assert.equal(fileErrorCause(new Deno.errors.PermissionDenied("x")), "permission denied");
});
