import assert from "node:assert/strict";
import {
  checkVaultKey,
  decryptVault,
  deriveKey,
  encryptVault,
  newSalt,
  parseSalt,
} from "../lib/vault/crypto.ts";
import {} from "../lib/kit/errors.ts";
import { openVaultStore } from "../lib/vault/store.ts";
import { kindOf } from "./support/assertions.ts";
import { tempDir } from "./support/temp.ts";

const KEY = "unit-test-key-0123456789";

Deno.test("HKDF keys are deterministic per key and salt, and differ when either changes", async () => {
  const salt = parseSalt("00112233445566778899", "s");
  const a = await deriveKey(KEY, salt);
  assert.equal(a.length, 32);
  assert.deepEqual(await deriveKey(KEY, salt), a);
  assert.notDeepEqual(await deriveKey(`${KEY}x`, salt), a);
  assert.notDeepEqual(await deriveKey(KEY, parseSalt("00112233445566778898", "s")), a);
});

Deno.test("salts: new ones are 20 hex characters; malformed ones are refused", () => {
  const salt = newSalt();
  assert.match(salt, /^[0-9a-f]{20}$/);
  assert.notEqual(newSalt(), salt);
  for (const bad of ["", "xyz", "0011", "0011223344556677889", "zz112233445566778899"]) {
    assert.throws(() => parseSalt(bad, "vault.salt"), kindOf("vault"), bad);
  }
});

Deno.test("encrypt then decrypt gives the text back; any other key or any flipped byte fails", async () => {
  const key = await deriveKey(KEY, parseSalt(newSalt(), "s"));
  const text = "A:\n  B: 'päss: \"x\"'\n";
  const jwe = await encryptVault(text, key);
  assert.ok(!jwe.includes("päss"));
  assert.equal(await decryptVault(jwe, key, "v"), text);
  assert.notEqual(await encryptVault(text, key), jwe, "a fresh IV each time");
  const other = await deriveKey("another-key-0123456789", parseSalt(newSalt(), "s"));
  await assert.rejects(decryptVault(jwe, other, "v"), /cannot decrypt the vault v/);
  const body = jwe.trim();
  for (let i = 0; i < body.length; i += 7) {
    // skip separators and each segment's last character (it may carry only padding bits)
    if (body[i] === "." || body[i + 1] === "." || i === body.length - 1) continue;
    const flipped = body.slice(0, i) + (body[i] === "A" ? "Q" : "A") + body.slice(i + 1);
    await assert.rejects(decryptVault(flipped, key, "v"), kindOf("vault"), `flip at ${i}`);
  }
});

Deno.test("vault keys that are empty or short are refused without quoting them", () => {
  assert.throws(() => checkVaultKey("   "), kindOf("config"));
  assert.throws(
    () => checkVaultKey("tiny-key"),
    (error: Error) => !error.message.includes("tiny-key"),
  );
  checkVaultKey(KEY);
});

Deno.test("the encrypted store seals with ciphertext only and reads back its own writes", async () => {
  await using tmp = await tempDir();
  const { dir } = tmp;
  const store = openVaultStore(`${dir}/vault.yml`, KEY);
  assert.equal(store.path, `${dir}/vault.yml.enc`);
  const sealed = await store.seal("SECRET: plain-text-value\n");
  assert.ok(!sealed.includes("plain-text-value"));
  store.put(sealed);
  const read = await store.read();
  assert.equal(read.exists, true);
  assert.equal(read.raw, sealed);
  assert.equal(read.text, "SECRET: plain-text-value\n");
  for (const name of Deno.readDirSync(dir)) {
    const content = await Deno.readTextFile(`${dir}/${name.name}`);
    assert.ok(!content.includes("plain-text-value"), name.name);
  }
});

Deno.test("obviously weak vault keys are refused, random ones accepted", () => {
  for (
    const weak of [
      "aaaaaaaaaaaaaaaa",
      "abababababababababab",
      "abcdefgabcdefgabcdefg",
      "abcdefghabcdefghab",
      "0123456789abcdef",
      "ponmlkjihgfedcba",
    ]
  ) {
    assert.throws(() => checkVaultKey(weak), (error: Error) => {
      assert.ok(kindOf("config")(error));
      assert.match(error.message, /DATAOPS_VAULT_KEY is too weak/);
      assert.ok(!error.message.includes(weak), "never quoted");
      return true;
    }, weak);
  }
  for (let i = 0; i < 200; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    checkVaultKey([...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""));
  }
  checkVaultKey("Tr0ub4dor&3-horse-staple");
});
