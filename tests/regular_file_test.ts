/**
 * The vault's files are read only as regular files, never through a link, and never past
 * their size limit, even when the file system reports a wrong size.
 */

import assert from "node:assert/strict";
import { readRegularTextSync, regularFileInfoSync } from "../lib/vault/regular_file.ts";
import { kindOf } from "./support/assertions.ts";
import { tempVault } from "./support/temp.ts";

Deno.test("the read stops at the limit even when stat reports a size of 0", async () => {
  // Files in /proc are regular files whose reported size is 0.
  assert.equal((await Deno.stat("/proc/self/status")).size, 0);
  assert.throws(
    () => readRegularTextSync("/proc/self/status", "the vault", 16),
    (error: unknown) => kindOf("vault")(error) && /larger than 16 bytes/.test(String(error)),
  );
});

Deno.test("a missing file reads as null; a regular one exactly, less a leading BOM", async () => {
  await using tmp = await tempVault("\ufeffA: b\n");
  assert.equal(readRegularTextSync(`${tmp.dir}/absent.yml`, "the vault", 100), null);
  assert.equal(readRegularTextSync(tmp.vault, "the vault", 100), "A: b\n");
  assert.equal(readRegularTextSync(tmp.vault, "the vault", 8), "A: b\n", "8 bytes is within 8");
  assert.throws(() => readRegularTextSync(tmp.vault, "the vault", 7), /larger than 7 bytes/);
});

Deno.test("a folder or a link is refused naming the file", async () => {
  await using tmp = await tempVault("A: b\n");
  assert.throws(
    () => regularFileInfoSync(tmp.dir, "the vault"),
    (error: unknown) =>
      kindOf("vault")(error) && /is a folder, not a regular file/.test(String(error)),
  );
  await Deno.symlink(tmp.vault, `${tmp.dir}/link.yml`);
  assert.throws(
    () => readRegularTextSync(`${tmp.dir}/link.yml`, "the manifest", 100),
    /the manifest .*link\.yml is a symbolic link/,
  );
});

Deno.test("invalid UTF-8 is refused naming the file", async () => {
  await using tmp = await tempVault();
  await Deno.writeFile(tmp.vault, new Uint8Array([0x41, 0xff, 0x0a]));
  assert.throws(
    () => readRegularTextSync(tmp.vault, "the salt file", 100),
    (error: unknown) =>
      kindOf("vault")(error) && /the salt file .* is not UTF-8 text/.test(String(error)),
  );
});
