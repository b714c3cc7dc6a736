/**
 * The selector grammar (`lib/kit/selector.ts`): property tests that random legal names of
 * every backend parse to a plain name (today's selectors keep their meaning) and
 * round-trip with options through format and parse, plus the grammar's errors and the
 * field pick of `lib/kit/mapping.ts`.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { isKind } from "../lib/kit/errors.ts";
import { splitList } from "../lib/kit/params.ts";
import {
  formatSelector,
  hasOptionStart,
  parseSelection,
  parseSelector,
  type Selector,
} from "../lib/kit/selector.ts";
import { mapPicked, pickField } from "../lib/kit/mapping.ts";
import { parseDocument } from "../lib/vault/yaml.ts";
import { PROVIDERS } from "../providers/registry.ts";
import { testSettings } from "./support/settings.ts";

const RUNS = { numRuns: 500 };

function chars(alphabet: string, min: number, max: number): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) =>
    a.join("")
  );
}

const ALNUM = "abcXYZ0189";
/** AWS Secrets Manager names: letters, digits and `/_+=.@-`. */
const smName = chars(`${ALNUM}/_+=.@-`, 1, 40);
/** AWS Secrets Manager ARNs (selectors may be ARNs, with `:`). */
const smArn = fc.tuple(smName, chars("abcdefXYZ09", 6, 6)).map(([name, suffix]) =>
  `arn:aws:secretsmanager:eu-west-2:123456789012:secret:${name}-${suffix}`
);
/** SSM names and path prefixes: letters, digits and `_.-/`. */
const ssmName = chars(`${ALNUM}_.-/`, 1, 40);
/** Key Vault names: 1-127 letters, digits and dashes. */
const kvName = chars(`${ALNUM}-`, 1, 127);
/**
 * HashiCorp Vault `MOUNT/PATH`: almost anything, `;` and `=` included, except the three
 * option starts (`;version=`, `;field=`, `;key=`) and commas (the list separator).
 */
const vaultName = fc.tuple(
  chars(`${ALNUM}_-`, 1, 8),
  chars(`${ALNUM}_-./;=@+:é 名`, 0, 30),
).map(([mount, path]) => `${mount}/${path}`.trim()).filter((name) => !hasOptionStart(name));

const anyName = fc.oneof(smName, smArn, ssmName, kvName, vaultName);
const dotted = fc.array(chars(`${ALNUM}_-`, 1, 8), { minLength: 1, maxLength: 4 }).map((a) =>
  a.join(".")
);
const version = fc.oneof(
  fc.constantFrom("AWSCURRENT", "AWSPREVIOUS", "release_2", "3"),
  fc.uuid(),
  fc.stringMatching(/^[0-9a-f]{32}$/),
  fc.integer({ min: 1, max: 10_000 }).map(String),
);
const selectorArb: fc.Arbitrary<Selector> = fc.record({
  name: anyName,
  version: fc.option(version, { nil: undefined }),
  field: fc.option(dotted, { nil: undefined }),
  key: fc.option(dotted, { nil: undefined }),
}).map((s) => {
  const out: Selector = { name: s.name };
  if (s.version !== undefined) out.version = s.version;
  if (s.field !== undefined) out.field = s.field;
  if (s.key !== undefined) out.key = s.key;
  return out;
});

Deno.test("selector: every legal name of every backend, as written today, parses to that plain name", () => {
  fc.assert(
    fc.property(anyName, (name) => {
      assert.deepEqual(parseSelector(name), { name });
    }),
    RUNS,
  );
});

Deno.test("selector: random selectors round-trip through format and parse, also as a comma list", () => {
  fc.assert(
    fc.property(fc.array(selectorArb, { minLength: 1, maxLength: 5 }), (selectors) => {
      for (const selector of selectors) {
        assert.deepEqual(parseSelector(formatSelector(selector)), selector);
      }
      const text = selectors.map(formatSelector).join(",");
      assert.deepEqual(parseSelection(splitList(text)), selectors);
    }),
    RUNS,
  );
});

Deno.test("selector: options in any order and with spaces parse the same", () => {
  assert.deepEqual(
    parseSelector("prod/db ;key=SNOWFLAKE.PASSWORD; field=password;version= AWSPREVIOUS"),
    { name: "prod/db", version: "AWSPREVIOUS", field: "password", key: "SNOWFLAKE.PASSWORD" },
  );
  // A `;` that starts no known option stays in the name (HashiCorp Vault paths may hold it).
  assert.deepEqual(parseSelector("kv/a;b=c"), { name: "kv/a;b=c" });
  assert.deepEqual(parseSelector("kv/a;b;key=K"), { name: "kv/a;b", key: "K" });
  // An option value may hold `;` and `=` when no option starts there.
  assert.deepEqual(parseSelector("n;field=a;b"), { name: "n", field: "a;b" });
});

Deno.test("selector: malformed options are config errors naming the entry", () => {
  for (
    const text of [
      ";version=1",
      "db;version=",
      "db;field=a;field=b",
      "db;key=A..B",
      "db;field=.a",
      "db;key=A.",
    ]
  ) {
    assert.throws(
      () => parseSelector(text),
      (error) => isKind(error, "config") && (error as Error).message.includes("SECRETS_SELECTION"),
      text,
    );
  }
});

Deno.test("selector: backends whose names cannot hold ';' refuse a misspelt option", async () => {
  for (
    const backend of ["AWS_SECRETS_MANAGER", "AWS_PARAMETER_STORE", "AZURE_KEY_VAULT"] as const
  ) {
    const settings = testSettings({
      selection: ["db;verison=2"],
      env: { AWS_REGION: "eu-west-2", SECRETS_AZURE_KEY_VAULT_URL: "https://kv.vault.azure.net" },
    });
    await assert.rejects(
      async () => await PROVIDERS[backend].configure(settings, () => Promise.resolve({})),
      (error) => isKind(error, "config") && /starts no option/.test((error as Error).message),
      backend,
    );
  }
});

Deno.test("field pick: dotted paths, JSON text on the way, errors never quote the value", () => {
  const secret = { name: "s", value: '{"db":{"password":"p-1","port":5432},"raw":"{\\"k\\":1}"}' };
  assert.equal(pickField(secret, "db.password"), "p-1");
  assert.equal(pickField(secret, "db.port"), 5432);
  assert.equal(pickField(secret, "raw.k"), 1);
  assert.deepEqual(pickField(secret, "db"), { password: "p-1", port: 5432 });
  for (
    const [value, field, why] of [
      [secret.value, "db.user", /has no field "db\.user"/],
      [secret.value, "db.password.x", /has no object at "db\.password"/],
      ["plain-text-value", "a", /is not a JSON object/],
      ["[1,2]", "a", /is not a JSON object/],
    ] as const
  ) {
    assert.throws(
      () => pickField({ name: "s", value }, field),
      (error) =>
        isKind(error, "conflict") && why.test((error as Error).message) &&
        !(error as Error).message.includes("p-1") && !(error as Error).message.includes(value),
    );
  }
  assert.throws(
    () => pickField({ name: "b", value: "e30=", encoding: "base64" }, "a"),
    /is binary/,
  );
});

Deno.test("mapPicked: a field goes to ;key= or below the secret's path; ;key= alone moves the whole", () => {
  const settings = { expandJson: false };
  const secret = { name: "a/b", value: '{"password":"p","user":"u"}' };
  const base = () => ["a", "b"];
  const whole = (under?: string[]) => [{ path: under ?? ["whole"], value: "w", source: "a/b" }];
  assert.deepEqual(mapPicked(secret, settings, base, whole), whole());
  assert.deepEqual(
    mapPicked({ ...secret, pick: { field: "password" } }, settings, base, whole),
    [{ path: ["a", "b", "password"], value: "p", source: "a/b" }],
  );
  assert.deepEqual(
    mapPicked({ ...secret, pick: { field: "password", key: "X.Y" } }, settings, base, whole),
    [{ path: ["X", "Y"], value: "p", source: "a/b" }],
  );
  assert.deepEqual(
    mapPicked({ ...secret, pick: { key: "K" } }, settings, base, whole),
    whole(["K"]),
  );
});

Deno.test("docs/selectors.md: every YAML example reads unquoted as the selectors it shows", async () => {
  const text = await Deno.readTextFile(new URL("../docs/selectors.md", import.meta.url));
  const examples = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) =>
    m[1].replace(/^variables:\n/, "").replace(/^ {2}/gm, "")
  );
  assert.equal(examples.length, 4, "one example per backend");
  for (const example of examples) {
    const doc = parseDocument(example);
    assert.deepEqual(doc.errors, [], example);
    const line = /SECRETS_SELECTION: (.*)/.exec(example)![1];
    const selection = (doc.toJS() as Record<string, string>).SECRETS_SELECTION;
    assert.equal(selection, line.trim(), "the plain scalar is the text as written");
    const selectors = parseSelection(splitList(selection));
    assert.ok(selectors.some((s) => s.version !== undefined), example);
    for (const selector of selectors) {
      assert.deepEqual(parseSelector(formatSelector(selector)), selector);
    }
  }
});
