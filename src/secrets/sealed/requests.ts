/**
 * What the controller's sealing routes do with a request body (upstream's `POST /v1/verify`
 * and `POST /v1/rotate`), and what the reconciler does with a SealedSecret from the cluster,
 * as pure functions of their input and the keys, so that they can run in a worker thread
 * (request-worker.ts): neither parsing a large YAML body nor thousands of RSA decryptions may
 * hold up the controller's event loop.
 */
import type { KeyObject } from "node:crypto";
import { parseManifest } from "./manifest.ts";
import { sealedSecretFromManifest } from "./objects.ts";
import type { SealedSecret, Secret } from "./types.ts";
import { canUnseal, reEncryptSealedSecret, SECRET_DATA_LIMIT, unsealSealedSecret, UnsealError } from "./unseal.ts";

/**
 * Encrypted values one request may carry. Each costs an RSA-4096 decryption (3 to 6 ms of CPU),
 * so this bounds one request to about 2 to 3 s of work; a Secret with more keys than this is
 * rare enough to be split.
 */
export const MAX_SEALED_VALUES = 500;

/** The largest RSA modulus (bits) a sealing key may have, for the size of one sealed value. */
const MAX_RSA_BYTES = 8192 / 8;
/**
 * Characters of one base64 sealed value: at most a whole Secret's data (the API server caps it
 * at 1 MiB), behind the length prefix and the RSA-wrapped session key, and before the GCM tag.
 */
export const MAX_SEALED_VALUE_LENGTH = Math.ceil((2 + MAX_RSA_BYTES + SECRET_DATA_LIMIT + 16) / 3) * 4;

export type SealingJob =
  | { op: "verify"; manifest: string; privateKeys: KeyObject[] }
  | { op: "rotate"; manifest: string; privateKeys: KeyObject[]; publicKey: KeyObject }
  /** The reconciler's: a SealedSecret already read from the cluster (and checked) into its Secret. */
  | { op: "unseal"; sealedSecret: SealedSecret; privateKeys: KeyObject[] };

/**
 * `unsealed`: the answer (true for verify, the re-sealed object for rotate, the Secret for
 * unseal). `sealed-elsewhere`: it does not unseal with the keys in hand (409 after the caller
 * re-read its keys). `refused`: the request itself is at fault. Messages name fields and keys,
 * never values.
 */
export type SealingOutcome =
  | { kind: "unsealed"; result: true | SealedSecret | Secret }
  | { kind: "sealed-elsewhere"; message: string }
  | { kind: "refused"; statusCode: 400 | 413; message: string };

const SOURCE = "the request body";

export function runSealingJob(job: SealingJob): SealingOutcome {
  if (job.op === "unseal") {
    try {
      return { kind: "unsealed", result: unsealSealedSecret(job.sealedSecret, job.privateKeys) };
    } catch (error) {
      if (error instanceof UnsealError) return { kind: "sealed-elsewhere", message: error.message };
      throw error;
    }
  }
  let sealed: SealedSecret;
  try {
    sealed = sealedSecretFromManifest(parseManifest(job.manifest, SOURCE), SOURCE);
  } catch (error) {
    return { kind: "refused", statusCode: 400, message: error instanceof Error ? error.message : String(error) };
  }
  const tooLarge = sizeProblem(sealed);
  if (tooLarge) return { kind: "refused", statusCode: 413, message: tooLarge };
  if (job.op === "verify") {
    return canUnseal(sealed, job.privateKeys) ? { kind: "unsealed", result: true } : { kind: "sealed-elsewhere", message: "the SealedSecret does not unseal with this controller's keys" };
  }
  try {
    return { kind: "unsealed", result: reEncryptSealedSecret(sealed, job.privateKeys, job.publicKey) };
  } catch (error) {
    if (error instanceof UnsealError) return { kind: "sealed-elsewhere", message: error.message };
    throw error;
  }
}

function sizeProblem(sealed: SealedSecret): string | undefined {
  const entries = Object.entries(sealed.spec.encryptedData);
  if (entries.length > MAX_SEALED_VALUES) {
    return `${SOURCE} holds ${entries.length} encrypted values; the controller checks at most ${MAX_SEALED_VALUES} in one request: split the Secret`;
  }
  if (entries.some(([, value]) => value.length > MAX_SEALED_VALUE_LENGTH)) {
    return `${SOURCE} holds an encrypted value longer than any sealed Secret value can be (${MAX_SEALED_VALUE_LENGTH} characters)`;
  }
  return undefined;
}
