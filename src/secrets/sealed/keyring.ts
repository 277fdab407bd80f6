/**
 * The controller's sealing keys in memory: every key unseals, the newest (by its certificate's
 * notBefore, as upstream orders them) seals. Pure; key-store.ts reads and writes them.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { parsePrivateKey, parseSealingCertificate, publicKeyFingerprint } from "./certificate.ts";
import type { Secret } from "./types.ts";

/** setTimeout cannot wait longer than this; longer waits are taken in steps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SealingKey {
  /** The Secret that holds it. */
  name: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificatePem: string;
  notBefore: Date;
  fingerprint: string;
}

export class KeyRing {
  private readonly keys = new Map<string, SealingKey>();
  private ordered: SealingKey[] = [];

  /** Adds a key unless one with the same public key is there; returns whether it was new. */
  add(key: SealingKey): boolean {
    if (this.keys.has(key.fingerprint)) return false;
    this.keys.set(key.fingerprint, key);
    this.ordered = [...this.keys.values()].sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime() || (a.name < b.name ? 1 : -1));
    return true;
  }

  get size(): number {
    return this.keys.size;
  }

  newest(): SealingKey | undefined {
    return this.ordered[0];
  }

  /** Newest first: current SealedSecrets decrypt on the first try. */
  privateKeys(): KeyObject[] {
    return this.ordered.map((key) => key.privateKey);
  }

  names(): string[] {
    return this.ordered.map((key) => key.name);
  }
}

/** How long until a new key is due: `period` after the newest key's notBefore, now if overdue or none. */
export function rotationDelay(newest: Date | undefined, periodMs: number, now: Date = new Date()): number {
  if (!newest) return 0;
  return Math.max(0, newest.getTime() + periodMs - now.getTime());
}

/** A `kubernetes.io/tls` key Secret (upstream's layout: PEM tls.key and tls.crt, base64 in data). */
export function sealingKeyFromSecret(secret: Secret): SealingKey {
  const name = secret.metadata.name ?? "";
  const source = `Secret ${secret.metadata.namespace ?? ""}/${name}`;
  const tlsKey = secret.data?.["tls.key"];
  const tlsCert = secret.data?.["tls.crt"];
  if (!tlsKey || !tlsCert) throw new Error(`${source} lacks tls.key or tls.crt`);
  const privateKey = parsePrivateKey(Buffer.from(tlsKey, "base64"), `${source} tls.key`);
  const certificatePem = Buffer.from(tlsCert, "base64").toString("utf8");
  const certificate = parseSealingCertificate(certificatePem, `${source} tls.crt`);
  const publicKey = createPublicKey(privateKey);
  if (publicKeyFingerprint(publicKey) !== publicKeyFingerprint(certificate.publicKey)) throw new Error(`${source}: tls.crt does not belong to tls.key`);
  return { name, privateKey, publicKey, certificatePem, notBefore: certificate.notBefore, fingerprint: publicKeyFingerprint(publicKey) };
}
