/**
 * sops's value cipher: AES-256-GCM with a 32-byte IV (not GCM's usual 12), the value's path
 * as additional data, written as `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<t>]`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export const IV_SIZE = 32;
const TAG_SIZE = 16;
const KEY_SIZE = 32;

export interface EncryptedValue {
  data: Buffer;
  iv: Buffer;
  tag: Buffer;
  type: string;
}

// Same shape as sops's own pattern (aes/cipher.go), which is not anchored at the end.
const ENC_PATTERN = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;

export function isEncryptedValue(text: string): boolean {
  return ENC_PATTERN.test(text);
}

function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return Buffer.from(text, "base64");
}

/** Splits an `ENC[...]` string; undefined when it does not have that shape. */
export function parseEncryptedValue(text: string): EncryptedValue | undefined {
  const match = ENC_PATTERN.exec(text);
  if (!match) return undefined;
  const data = decodeBase64(match[1]!);
  const iv = decodeBase64(match[2]!);
  const tag = decodeBase64(match[3]!);
  if (!data || !iv || !tag || iv.length === 0 || tag.length !== TAG_SIZE) return undefined;
  return { data, iv, tag, type: match[4]! };
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_SIZE) throw new Error(`data key must be ${KEY_SIZE} bytes, not ${key.length}`);
}

export function encryptValue(plaintext: Uint8Array, type: string, key: Uint8Array, additionalData: string, iv: Uint8Array = randomBytes(IV_SIZE)): string {
  checkKey(key);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_SIZE });
  cipher.setAAD(Buffer.from(additionalData, "utf8"));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${Buffer.from(iv).toString("base64")},tag:${tag.toString("base64")},type:${type}]`;
}

/** The plaintext, or undefined when the value does not authenticate (wrong key, path or tampering). */
export function decryptValue(value: EncryptedValue, key: Uint8Array, additionalData: string): Buffer | undefined {
  checkKey(key);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, value.iv, { authTagLength: TAG_SIZE });
    decipher.setAAD(Buffer.from(additionalData, "utf8"));
    decipher.setAuthTag(value.tag);
    return Buffer.concat([decipher.update(value.data), decipher.final()]);
  } catch {
    return undefined;
  }
}
