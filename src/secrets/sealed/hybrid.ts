/**
 * kubeseal's hybrid encryption of one value (pkg/crypto HybridEncrypt/HybridDecrypt):
 *
 *   uint16 big-endian length of the RSA ciphertext || RSA-OAEP-SHA256(session key, label) || AES-256-GCM(value) with tag
 *
 * The 32-byte session key is fresh per value and used once, which is why upstream's all-zero
 * GCM nonce is safe; the OAEP label binds the value to its scope (scope.ts).
 */
import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from "node:crypto";

const SESSION_KEY_BYTES = 32;
const GCM_NONCE = Buffer.alloc(12);
const GCM_TAG_BYTES = 16;

/** Why a value did not decrypt. Never carries key material or plaintext. */
export class HybridDecryptError extends Error {
  override readonly name = "HybridDecryptError";

  constructor(readonly reason: "too-short" | "rsa" | "aes") {
    super(
      {
        "too-short": "the ciphertext is too short to be a sealed value",
        rsa: "the session key does not decrypt with this private key and label",
        aes: "the value failed its integrity check",
      }[reason],
    );
  }
}

export function hybridEncrypt(publicKey: KeyObject, plaintext: Uint8Array, label: Buffer): Buffer {
  const sessionKey = randomBytes(SESSION_KEY_BYTES);
  const wrappedKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256", oaepLabel: label }, sessionKey);
  const cipher = createCipheriv("aes-256-gcm", sessionKey, GCM_NONCE);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  sessionKey.fill(0);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(wrappedKey.length);
  return Buffer.concat([length, wrappedKey, body]);
}

export function hybridDecrypt(privateKey: KeyObject, ciphertext: Uint8Array, label: Buffer): Buffer {
  const bytes = Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength);
  if (bytes.length < 2) throw new HybridDecryptError("too-short");
  const rsaLength = bytes.readUInt16BE(0);
  if (bytes.length < 2 + rsaLength + GCM_TAG_BYTES) throw new HybridDecryptError("too-short");
  let sessionKey: Buffer;
  try {
    sessionKey = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256", oaepLabel: label }, bytes.subarray(2, 2 + rsaLength));
  } catch {
    throw new HybridDecryptError("rsa");
  }
  if (sessionKey.length !== SESSION_KEY_BYTES) throw new HybridDecryptError("rsa");
  const body = bytes.subarray(2 + rsaLength);
  try {
    const decipher = createDecipheriv("aes-256-gcm", sessionKey, GCM_NONCE);
    decipher.setAuthTag(body.subarray(body.length - GCM_TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - GCM_TAG_BYTES)), decipher.final()]);
  } catch {
    throw new HybridDecryptError("aes");
  } finally {
    sessionKey.fill(0);
  }
}

/**
 * The first private key (in the given order, newest first) that opens the value, and its index.
 * `preferred` is tried first: the values of one SealedSecret are normally sealed with the same
 * key, so once one value opened, the rest open at the first attempt even when that key is old.
 */
export function hybridDecryptWithAny(privateKeys: readonly KeyObject[], ciphertext: Uint8Array, label: Buffer, preferred = 0): { value: Buffer; keyIndex: number } {
  let lastError: HybridDecryptError = new HybridDecryptError("rsa");
  const order = privateKeys.map((_key, index) => index);
  if (preferred > 0 && preferred < order.length) order.unshift(...order.splice(preferred, 1));
  for (const index of order) {
    try {
      return { value: hybridDecrypt(privateKeys[index]!, ciphertext, label), keyIndex: index };
    } catch (error) {
      if (!(error instanceof HybridDecryptError)) throw error;
      // A short ciphertext fails the same way under every key.
      if (error.reason === "too-short") throw error;
      lastError = error;
    }
  }
  throw lastError;
}
