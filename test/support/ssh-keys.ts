// ed25519 key pairs for the SSH tests, made with node:crypto and written in OpenSSH's formats
// (PROTOCOL.key for the private key, RFC 8709 for the public key), so no ssh-keygen is needed.
// ssh2's own generateKeyPair is not used: it strips leading zero bytes from the public key, so
// about one key in 256 comes out malformed (mscdex/ssh2 issues 1390 and 1513).

import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";

export interface KeyPair {
  /** OpenSSH format (`-----BEGIN OPENSSH PRIVATE KEY-----`), unencrypted. */
  privateKey: string;
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
}

const KEY_TYPE = "ssh-ed25519";
/** PKCS#8 wrapping of a raw ed25519 seed (RFC 8410): the DER header, then the 32 seed bytes. */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
/** OpenSSH pads the private section to the cipher's block size, 8 for "none". */
const BLOCK_SIZE = 8;
const BASE64_LINE = 70;

/** A fresh ed25519 key pair. */
export function generateKeyPair(comment = "fjord-test"): KeyPair {
  return keyPairFromSeed(randomBytes(32), comment);
}

/** The key pair of a 32-byte ed25519 seed (the private scalar's source), in OpenSSH's formats. */
export function keyPairFromSeed(seed: Buffer, comment = "fjord-test", checkInt = randomBytes(4).readUInt32BE()): KeyPair {
  if (seed.length !== 32) throw new Error(`an ed25519 seed has 32 bytes, not ${seed.length}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
  const publicRaw = Buffer.from(createPublicKey(privateKey).export({ format: "jwk" }).x ?? "", "base64url");
  if (publicRaw.length !== 32) throw new Error("node:crypto returned no 32-byte ed25519 public key");

  const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(publicRaw)]);
  const section = Buffer.concat([
    uint32(checkInt),
    uint32(checkInt),
    sshString(KEY_TYPE),
    sshString(publicRaw),
    // OpenSSH keeps the seed and the public key together as the 64-byte "private key".
    sshString(Buffer.concat([seed, publicRaw])),
    sshString(comment),
  ]);
  const padding = Buffer.from(Array.from({ length: (BLOCK_SIZE - (section.length % BLOCK_SIZE)) % BLOCK_SIZE }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat([section, padding])),
  ]);
  const lines = body.toString("base64").match(new RegExp(`.{1,${BASE64_LINE}}`, "g")) ?? [];
  return {
    privateKey: ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join("\n"),
    publicKey: `${KEY_TYPE} ${publicBlob.toString("base64")} ${comment}`,
  };
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([uint32(bytes.length), bytes]);
}
