/** The controller's keys: loaded from their Secrets, generated when missing or due, refreshed on demand. */
import type { KubeClient } from "../../kube/client.ts";
import type { Logger } from "../../util/logger.ts";
import { createSealingKey, loadSealingKeys } from "./key-store.ts";
import { KeyRing, type SealingKey } from "./keyring.ts";

/** Re-reading the key Secrets on every failed unseal would let a bad SealedSecret hammer the API. */
const MIN_REFRESH_INTERVAL_MS = 10_000;

export class SealingKeys {
  readonly ring = new KeyRing();
  private lastRefresh = 0;
  private readonly reported = new Set<string>();

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly logger: Logger,
    private readonly keySize: number | undefined,
  ) {}

  /** Reads the key Secrets; returns whether any key was new. */
  async refresh(signal?: AbortSignal): Promise<boolean> {
    this.lastRefresh = Date.now();
    const loaded = await loadSealingKeys(this.client, this.namespace, signal);
    for (const { name, problem } of loaded.unreadable) {
      if (this.reported.has(name)) continue;
      this.reported.add(name);
      this.logger.warn({ namespace: this.namespace, secret: name }, `ignoring sealing key Secret: ${problem}`);
    }
    let added = false;
    for (const key of loaded.keys) {
      if (this.ring.add(key)) {
        added = true;
        this.logger.info({ namespace: this.namespace, secret: key.name, fingerprint: key.fingerprint, notBefore: key.notBefore.toISOString() }, "sealing key loaded");
      }
    }
    return added;
  }

  async refreshIfStale(): Promise<boolean> {
    if (Date.now() - this.lastRefresh < MIN_REFRESH_INTERVAL_MS) return false;
    return this.refresh();
  }

  async generate(): Promise<SealingKey> {
    const started = Date.now();
    const key = await createSealingKey(this.client, this.namespace, this.keySize ? { keySize: this.keySize } : {});
    this.ring.add(key);
    this.logger.info({ namespace: this.namespace, secret: key.name, fingerprint: key.fingerprint, ms: Date.now() - started }, "new sealing key generated; it seals from now on");
    return key;
  }
}
