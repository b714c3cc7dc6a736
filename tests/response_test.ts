/** Unit tests of the defensive answer reading (`lib/kit/response.ts`) and paging guard. */

import assert from "node:assert/strict";
import { readText, refuseRedirect } from "../lib/kit/response.ts";
import { MAX_LISTED_ENTRIES, pageTokens } from "../lib/kit/paging.ts";
import { checkDepth, MAX_KEY_DEPTH } from "../lib/kit/mapping.ts";
import { checkListedKey, mountWithin } from "../providers/hashicorp_vault/kv.ts";
import { kindOf } from "./support/assertions.ts";

function stream(chunks: number, size: number): { response: Response; pulled: () => number } {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= chunks) return controller.close();
      pulled++;
      controller.enqueue(new Uint8Array(size).fill(0x61));
    },
  });
  return { response: new Response(body), pulled: () => pulled };
}

Deno.test("readText: a body within the limit is read whole", async () => {
  const { response } = stream(3, 10);
  assert.equal(await readText(response, "op", 30), "a".repeat(30));
});

Deno.test("readText: a streamed body past the limit stops there, a backend error naming the operation", async () => {
  const { response, pulled } = stream(1000, 1024);
  await assert.rejects(
    () => readText(response, "Example GET /x", 4096),
    (error: Error) =>
      kindOf("backend")(error) && /Example GET \/x: the answer is larger/.test(error.message),
  );
  assert.ok(pulled() <= 6, `stopped reading (${pulled()} chunks)`);
});

Deno.test("readText: a Content-Length past the limit fails before reading", async () => {
  const response = new Response("x".repeat(10), { headers: { "content-length": "999999999" } });
  await assert.rejects(() => readText(response, "op", 100), kindOf("backend"));
});

Deno.test("readText: a fetched body is read whole with its declared length, and a compressed one past the limit still stops", async () => {
  const big = "a".repeat(100_000);
  const gzip = new Uint8Array(
    await new Response(new Blob([big]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/gzip"
        ? new Response(gzip, { headers: { "content-encoding": "gzip" } })
        : new Response(JSON.stringify({ big })),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    const plain = await fetch(`${url}/plain`);
    assert.equal(plain.headers.get("content-length"), String(big.length + 10));
    assert.equal(await readText(plain, "op", big.length + 10), JSON.stringify({ big }));
    const compressed = await fetch(`${url}/gzip`);
    assert.ok(Number(compressed.headers.get("content-length")) < 4096);
    await assert.rejects(() => readText(compressed, "op", 4096), kindOf("backend"));
  } finally {
    await server.shutdown();
  }
});

Deno.test("refuseRedirect: 3xx is a backend error naming the target host; other statuses pass", async () => {
  for (const status of [301, 302, 303, 307, 308]) {
    const response = new Response(null, {
      status,
      headers: { location: "https://elsewhere.example:8443/v1/sys/raw" },
    });
    await assert.rejects(
      () => refuseRedirect(response, "op"),
      (error: Error) =>
        kindOf("backend")(error) && /to host elsewhere\.example:8443/.test(error.message),
    );
  }
  await refuseRedirect(new Response("ok", { status: 200 }), "op");
  await refuseRedirect(new Response("no", { status: 404 }), "op");
});

Deno.test("pageTokens: a repeated token or more than the cap of entries is a backend error", () => {
  const pages = pageTokens("Op", "NextToken");
  pages.follow("a");
  pages.follow("b");
  assert.throws(() => pages.follow("a"), kindOf("backend"));
  const counted = pageTokens("Op", "NextToken");
  counted.count(MAX_LISTED_ENTRIES);
  assert.throws(() => counted.count(1), kindOf("backend"));
});

Deno.test("checkDepth: at the limit passes, one deeper fails, any depth without overflow", () => {
  const nest = (n: number) => {
    let value: unknown = "x";
    for (let i = 0; i < n; i++) value = { N: value };
    return value;
  };
  checkDepth(nest(MAX_KEY_DEPTH), "s");
  assert.throws(() => checkDepth(nest(MAX_KEY_DEPTH + 1), "s"), kindOf("conflict"));
  assert.throws(() => checkDepth(nest(100_000), "s"), kindOf("conflict"));
});

Deno.test("checkListedKey: plain names and folders pass; traversal, empty and absolute keys fail", () => {
  for (const key of ["a", "a/", "A.B", "..a", "a..", ".hidden", "x y"]) {
    checkListedKey(key, "m", "f");
  }
  for (const key of ["..", "../", ".", "./", "", "/", "a//", "/abs", "a/../b", "a/./b"]) {
    assert.throws(() => checkListedKey(key, "m", "f"), kindOf("backend"), key);
  }
});

Deno.test("mountWithin: the answered mount as a prefix of the path, a namespace prefix dropped", () => {
  assert.equal(mountWithin("team/kv/", "team/kv/app"), "team/kv");
  assert.equal(mountWithin("secret/", "secret"), "secret");
  assert.equal(mountWithin("ns1/team/kv/", "team/kv/app"), "team/kv");
  assert.equal(mountWithin("other/", "secret/app"), undefined);
  assert.equal(mountWithin("team/k/", "team/kv/app"), undefined);
});
