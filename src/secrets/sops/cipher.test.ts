import assert from "node:assert/strict";
import { test } from "node:test";
import { decryptValue, encryptValue, isEncryptedValue, parseEncryptedValue } from "./cipher.ts";

// The known-answer value from sops's own tests (aes/cipher_test.go).
const SOPS_VECTOR = "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]";
const SOPS_KEY = Buffer.from("f".repeat(32));

test("decrypts the value sops's own tests encrypt, with its path as additional data", () => {
  const value = parseEncryptedValue(SOPS_VECTOR);
  assert.ok(value);
  assert.equal(value.iv.length, 32);
  assert.equal(value.type, "str");
  assert.equal(decryptValue(value, SOPS_KEY, "bar:")?.toString(), "foo");
  assert.equal(decryptValue(value, SOPS_KEY, ""), undefined, "another path does not authenticate");
  assert.equal(decryptValue(value, Buffer.alloc(32), "bar:"), undefined, "another key does not authenticate");
});

test("encrypts with a fresh 32-byte IV each time, and a given IV reproduces the ciphertext", () => {
  const key = Buffer.alloc(32, 7);
  const first = encryptValue(Buffer.from("secret"), "str", key, "data:password:");
  const second = encryptValue(Buffer.from("secret"), "str", key, "data:password:");
  assert.notEqual(first, second);
  const parsed = parseEncryptedValue(first)!;
  assert.equal(parsed.iv.length, 32);
  assert.equal(encryptValue(Buffer.from("secret"), "str", key, "data:password:", parsed.iv), first);
  assert.equal(decryptValue(parsed, key, "data:password:")?.toString(), "secret");
});

test("only sops's ENC[...] shape is recognised", () => {
  assert.equal(isEncryptedValue(SOPS_VECTOR), true);
  assert.equal(isEncryptedValue("ENC[AES256_GCM,data:x]"), false);
  assert.equal(parseEncryptedValue("ENC[AES256_GCM,data:!!,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]"), undefined);
  assert.equal(parseEncryptedValue("plain"), undefined);
});
