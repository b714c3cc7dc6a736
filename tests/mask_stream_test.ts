/**
 * The streaming mask of `run`: values split across writes, held tails, timed flushes of
 * prompts, bytes that are not UTF-8, and 16 MB with 1,000 registered values.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { byteRedactor, MASK, MaskStream, pipeMasked } from "../lib/output/mask_stream.ts";
import { Redactor } from "../lib/output/redact.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sink(): { write(bytes: Uint8Array): Promise<void>; bytes(): Uint8Array; text(): string } {
  const parts: Uint8Array[] = [];
  const bytes = () => {
    const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  };
  return {
    write(chunk) {
      parts.push(chunk.slice());
      return Promise.resolve();
    },
    bytes,
    text: () => decoder.decode(bytes()),
  };
}

function masker(values: string[], flushMs = 30) {
  const redactor = new Redactor();
  for (const value of values) redactor.add(value);
  const out = sink();
  const stream = new MaskStream({ redactor: byteRedactor(redactor), write: out.write, flushMs });
  return { stream, out };
}

Deno.test("mask stream: a value written whole, in pieces and in every derived form", async () => {
  const secret = "s3cr3t-Välue/+?&=";
  const { stream, out } = masker([secret]);
  await stream.push(encoder.encode(`whole ${secret}\n`));
  const bytes = encoder.encode(`split ${secret}\n`);
  // Split inside the two-byte "ä", with a pause longer than the flush delay.
  const cut = 6 + secret.indexOf("ä") + 1;
  await stream.push(bytes.subarray(0, cut));
  await sleep(80);
  await stream.push(bytes.subarray(cut));
  const b64 = btoa(String.fromCharCode(...encoder.encode(secret)));
  await stream.push(encoder.encode(`b64 ${b64}\nurl ${encodeURIComponent(secret)}\n`));
  await stream.push(encoder.encode(`json ${JSON.stringify({ password: secret })}\n`));
  await stream.end();
  assert.equal(
    out.text(),
    `whole ${MASK}\nsplit ${MASK}\nb64 ${MASK}\nurl ${MASK}\njson {"password":"${MASK}"}\n`,
  );
});

Deno.test("mask stream: one byte at a time still masks", async () => {
  const secret = "correct horse battery staple";
  const { stream, out } = masker([secret, "other-value-1"]);
  for (const byte of encoder.encode(`a ${secret} b other-value-1 c`)) {
    await stream.push(new Uint8Array([byte]));
  }
  await stream.end();
  assert.equal(out.text(), `a ${MASK} b ${MASK} c`);
});

Deno.test("mask stream: a prompt is written after the flush delay, a secret's start is held", async () => {
  const secret = "Zq9-secret-value-that-is-long";
  const { stream, out } = masker([secret], 30);
  await stream.push(encoder.encode("Password: "));
  assert.equal(out.text(), "", "held while it could still be followed by a value");
  await sleep(90);
  assert.equal(out.text(), "Password: ", "written after the delay: nothing in it starts a value");
  await stream.push(encoder.encode("ok Zq9-sec"));
  await sleep(90);
  assert.equal(out.text(), "Password: ok ", "the start of a value stays held");
  await stream.push(encoder.encode("ret-value-that-is-long!"));
  await stream.end();
  assert.equal(out.text(), `Password: ok ${MASK}!`);
});

Deno.test("mask stream: bytes that are not UTF-8 pass through unchanged", async () => {
  const { stream, out } = masker(["binary-secret"]);
  const raw = new Uint8Array(256).map((_, i) => i);
  await stream.push(raw);
  await stream.push(encoder.encode("binary-secret"));
  await stream.push(raw);
  await stream.end();
  const got = out.bytes();
  assert.deepEqual(got.subarray(0, 256), raw);
  assert.equal(decoder.decode(got.subarray(256, 259)), MASK);
  assert.deepEqual(got.subarray(259), raw);
});

Deno.test("mask stream: arbitrary bytes, ASCII or not, in any pieces, come out as they went in", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.stringMatching(/^[ -~]{0,40}$/)), {
        maxLength: 12,
      }),
      async (pieces) => {
        const { stream, out } = masker(["zz-secret-zz"]);
        const chunks = pieces.map((p) => typeof p === "string" ? encoder.encode(p) : p);
        for (const chunk of chunks) await stream.push(chunk);
        await stream.end();
        const sent = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const chunk of chunks) {
          sent.set(chunk, at);
          at += chunk.length;
        }
        assert.deepEqual(out.bytes(), sent);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("mask stream: no secrets registered passes everything through at once", async () => {
  const { stream, out } = masker([]);
  await stream.push(encoder.encode("plain"));
  assert.equal(out.text(), "plain");
  await stream.end();
});

Deno.test("mask stream: a huge value and output crafted against it stay bounded and masked", async () => {
  const value = `${"a".repeat(100_000)}Z`;
  const { stream, out } = masker([value], 5);
  const start = performance.now();
  const chunk = encoder.encode("a".repeat(16 * 1024));
  for (let i = 0; i < 10; i++) {
    await stream.push(chunk);
    await sleep(10); // the timed flush runs on a tail that could be the value's start
  }
  await stream.push(encoder.encode("Z tail"));
  await stream.end();
  const ms = performance.now() - start;
  assert.equal(out.text(), `${"a".repeat(16 * 1024 * 10 - 100_000)}${MASK} tail`);
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
});

Deno.test("mask stream: 16 MB with 1,000 registered values, a value in every line, each masked", async () => {
  const redactor = new Redactor();
  const values = Array.from({ length: 1000 }, (_, i) => `value-${i}-${crypto.randomUUID()}`);
  for (const value of values) redactor.add(value);
  const bytes = byteRedactor(redactor);
  const line = encoder.encode(
    `2026-12-01T10:00:00Z INFO step ${"x".repeat(40)} processed rows=12345 ok ${values[7]}\n`,
  );
  const chunk = new Uint8Array(64 * 1024);
  for (let at = 0; at + line.length <= chunk.length; at += line.length) chunk.set(line, at);
  const totalMb = 16;
  const chunks = (totalMb * 1024 * 1024) / chunk.length;
  let written = 0;
  let masks = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (written++ >= chunks) controller.close();
      else controller.enqueue(chunk);
    },
  });
  await pipeMasked(source, {
    redactor: bytes,
    write(out) {
      for (let i = 0; i + 2 < out.length; i++) {
        if (out[i] === 42 && out[i + 1] === 42 && out[i + 2] === 42) masks++;
      }
      return Promise.resolve();
    },
  });
  const linesPerChunk = Math.floor(chunk.length / line.length);
  // Its speed is make bench's to show (bench/mask_stream.ts).
  assert.equal(masks, linesPerChunk * chunks, "every line's value masked");
});

Deno.test("mask stream: hex of a value in upper, lower and mixed case, whole and split across a timed flush", async () => {
  const secret = "hex-secret-value";
  const hex = [...encoder.encode(secret)].map((byte) => byte.toString(16).padStart(2, "0")).join(
    "",
  );
  const mixed = [...hex].map((c, i) => i % 3 ? c : c.toUpperCase()).join("");
  const { stream, out } = masker([secret]);
  await stream.push(encoder.encode(`lower ${hex}\nupper ${hex.toUpperCase()}\nmixed ${mixed}\n`));
  const split = encoder.encode(`split ${hex.toUpperCase()}\n`);
  // Cut after a letter A-F (the D of "-"), with a pause longer than the flush delay: the held tail must
  // be recognised as the start of the (lower-case) hex form.
  const cut = 6 + hex.toUpperCase().indexOf("D") + 1;
  assert.ok(cut > 6);
  await stream.push(split.subarray(0, cut));
  await sleep(80);
  await stream.push(split.subarray(cut));
  // Hex digits alone are not a secret's spelling: ordinary text with capitals passes.
  await stream.push(encoder.encode("DEADBEEF CAFE Fetched 12 ABCDEF\n"));
  await stream.end();
  assert.equal(
    out.text(),
    `lower ${MASK}\nupper ${MASK}\nmixed ${MASK}\nsplit ${MASK}\nDEADBEEF CAFE Fetched 12 ABCDEF\n`,
  );
});
