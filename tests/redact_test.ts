import assert from "node:assert/strict";
import { derivedForms, formEncoded, MASK, Redactor } from "../lib/output/redact.ts";
import { hexOfText } from "../lib/kit/hex.ts";
import fc from "fast-check";

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

/** The masking rule stated plainly: at each position, the longest registered form wins. */
function reference(forms: readonly string[], text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const length = Math.max(0, ...forms.filter((f) => text.startsWith(f, i)).map((f) => f.length));
    if (length === 0) out += text[i++];
    else {
      out += MASK;
      i += length;
    }
  }
  return out;
}

Deno.test("the redactor takes the longest form at each position, like the plain rule", () => {
  // A small alphabet and one shared prefix: forms that are prefixes of each other, of up to
  // 13 lengths (so buckets go from one form to lengths to sorted runs), many
  // per bucket, registered before and after the index is built (so runs get merged).
  const word = fc.stringMatching(/^[ab]{0,12}$/).map((tail) => `pfx_${tail}`);
  fc.assert(
    fc.property(
      fc.array(word, { minLength: 1, maxLength: 40 }),
      fc.array(fc.oneof(word, fc.stringMatching(/^[abpfx_ ]{0,5}$/)), { maxLength: 30 }),
      fc.nat(40),
      (values, pieces, split) => {
        const redactor = new Redactor();
        const forms = new Set<string>();
        values.forEach((value, i) => {
          if (i === split) redactor.redact("build the index now");
          redactor.add(value);
          for (const form of derivedForms(value)) forms.add(form);
        });
        const text = pieces.join("");
        assert.equal(redactor.redact(text), reference([...forms], text));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("2,000 values sharing a prefix and one long line: every value is masked", () => {
  const redactor = new Redactor();
  const values = Array.from({ length: 2000 }, (_, i) => `pfx_${i.toString(36).repeat(1 + i % 7)}`);
  for (const value of values) redactor.add(value);
  const line = values.map((v, i) => `${v}${i % 3 ? " " : ""}pfx_`).join("|");
  const out = redactor.redact(line);
  assert.equal(out, reference([...new Set(values.flatMap((value) => derivedForms(value)))], line));
  assert.ok(!values.some((v) => out.includes(`${v}|`)));
});

Deno.test("hex forms are kept in lower case and found in any case; other forms keep their case", () => {
  const redactor = new Redactor();
  redactor.add("Case-Secret-42");
  const hex = [...new TextEncoder().encode("Case-Secret-42")].map((b) =>
    b.toString(16).padStart(2, "0")
  ).join("");
  assert.ok(!derivedForms("Case-Secret-42").includes(hex.toUpperCase()));
  assert.equal(redactor.redact(`a ${hex} b ${hex.toUpperCase()} c`), "a *** b *** c");
  // The value itself matches only as written: its upper-case spelling is not a form.
  assert.equal(redactor.redact("CASE-SECRET-42 Case-Secret-42"), "CASE-SECRET-42 ***");
});

Deno.test("a value with a lone surrogate is registered and masked, not an exception", () => {
  const redactor = new Redactor();
  for (const value of ["pass\ud800word-1", "\udfffpassword-2", "pass\ud83d"]) {
    redactor.add(value);
    assert.equal(redactor.redact(`before ${value} after`), "before *** after");
  }
  // Its encodings are those of the text a UTF-8 encoder writes (U+FFFD for the surrogate).
  const forms = derivedForms("pass\ud800word-1");
  assert.ok(forms.includes(encodeURIComponent("pass\ufffdword-1")));
});

Deno.test("hexOfText and formEncoded write what TextEncoder and URLSearchParams write", () => {
  const reference = {
    hex: (text: string) =>
      [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    form: (text: string) => new URLSearchParams([["", text]]).toString().slice(1),
  };
  for (const text of ["", "a b~(c)!'*", "é!", "🔑 key", "pass\ud800word", "\udfff", "+&=%"]) {
    assert.equal(hexOfText(text), reference.hex(text), JSON.stringify(text));
    assert.equal(formEncoded(text), reference.form(text), JSON.stringify(text));
  }
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 40 }), (text) => {
      assert.equal(hexOfText(text), reference.hex(text));
      assert.equal(formEncoded(text), reference.form(text));
    }),
    { numRuns: 2000 },
  );
});
