import assert from "node:assert/strict";
import { isKind } from "../lib/kit/errors.ts";
import { flatten, mapValue, nameToPath, splitKey, stripPrefix } from "../lib/kit/mapping.ts";

Deno.test("nameToPath converts separators to dots after stripping the prefix", () => {
  assert.deepEqual(nameToPath("/dataops/SNOWFLAKE/TRANSFORM/USERNAME", "/", "/dataops/"), [
    "SNOWFLAKE",
    "TRANSFORM",
    "USERNAME",
  ]);
  assert.deepEqual(nameToPath("SNOWFLAKE-TRANSFORM-USERNAME", "-", undefined), [
    "SNOWFLAKE",
    "TRANSFORM",
    "USERNAME",
  ]);
  assert.deepEqual(nameToPath("/A/B", "/", undefined), ["A", "B"]);
  assert.equal(stripPrefix("dev.A", "prod."), "dev.A");
});

Deno.test("splitKey refuses empty segments, naming the key and the secret", () => {
  for (const key of ["", "A..B", ".A", "A."]) {
    assert.throws(() => splitKey(key, "my-secret"), (error: unknown) => {
      assert.ok(isKind(error, "conflict"));
      assert.match(error.message, /my-secret/);
      return true;
    });
  }
});

Deno.test("mapValue expands JSON objects only with expandJson, and keeps other values as strings", () => {
  const secret = { name: "SNOWFLAKE", value: '{"TRANSFORM": {"PASSWORD": "p"}, "PORT": 1}' };
  assert.deepEqual(mapValue(["SNOWFLAKE"], secret, false), [
    { path: ["SNOWFLAKE"], value: secret.value, source: "SNOWFLAKE" },
  ]);
  assert.deepEqual(mapValue(["SNOWFLAKE"], secret, true), [
    { path: ["SNOWFLAKE", "TRANSFORM", "PASSWORD"], value: "p", source: "SNOWFLAKE" },
    { path: ["SNOWFLAKE", "PORT"], value: 1, source: "SNOWFLAKE" },
  ]);
  const list = { name: "L", value: "[1,2]" };
  assert.deepEqual(mapValue(["L"], list, true), [{ path: ["L"], value: "[1,2]", source: "L" }]);
});

Deno.test("malformed JSON under expand is an error naming the secret, never quoting the value", () => {
  const value = '{"PASSWORD": "hunter2-very-secret"';
  assert.throws(() => mapValue(["S"], { name: "db/creds", value }, true), (error: unknown) => {
    assert.ok(isKind(error, "conflict"));
    assert.match(error.message, /db\/creds/);
    assert.ok(!error.message.includes("hunter2"));
    return true;
  });
});

Deno.test("flatten rejects lists and nulls, naming the key", () => {
  assert.throws(() => flatten(["A"], { B: [1] }, "s"), /"A\.B" a list/);
  assert.throws(() => flatten(["A"], { B: null }, "s"), /"A\.B" null/);
  assert.deepEqual(flatten([], { "X.Y": true }, "s"), [
    { path: ["X", "Y"], value: true, source: "s" },
  ]);
});
