import assert from "node:assert/strict";
import { derivedForms, MASK, Redactor } from "../lib/output/redact.ts";

Deno.test("the redactor masks values and their derived forms", () => {
  const redactor = new Redactor();
  const value = 'line-one-secret\n{"inner": "json-leaf-secret"}';
  redactor.add(value);
  redactor.add('{"K": "leaf-of-object-secret"}');
  const b64 = btoa("line-one-secret");
  const text = `a line-one-secret b ${b64} c ${
    encodeURIComponent("line-one-secret")
  } d leaf-of-object-secret`;
  const out = redactor.redact(text);
  assert.ok(!out.includes("secret"), out);
  assert.equal(out.split(MASK).length - 1, 4);
});

Deno.test("derived forms include lines, JSON leaves, base64 and URL-encoding", () => {
  const forms = derivedForms('{"a": "p@ss word!"}');
  assert.ok(forms.includes("p@ss word!"));
  assert.ok(forms.includes(btoa("p@ss word!")));
  assert.ok(forms.includes(encodeURIComponent("p@ss word!")));
});

Deno.test("very short values are not masked, so ordinary words survive", () => {
  const redactor = new Redactor();
  redactor.add("a");
  assert.equal(redactor.redact("a cat"), "a cat");
});
