/**
 * The SealedSecret controller as a self-contained runner: keys (generated on first start,
 * rotated on a period), the CRD, and a watch-driven reconcile of every SealedSecret in the
 * cluster. It runs until `signal` aborts.
 */
import type { KubeClient } from "../../kube/client.ts";
import { KubeApiError } from "../../kube/errors.ts";
import type { KubeObject } from "../../model/object.ts";
import type { Logger } from "../../util/logger.ts";
import { ReconcileManager } from "../runtime/manager.ts";
import { reportOf } from "../runtime/report.ts";
import { ensureSealedSecretCrd } from "./crd.ts";
import { SealingKeys } from "../../secrets/sealed/key-manager.ts";
import { MAX_TIMER_MS, rotationDelay } from "../../secrets/sealed/keyring.ts";
import { reconcileSealedSecret, sealedSecretPath, type ReconcileContext, type SecretWriter } from "./reconciler.ts";
import { DEFAULT_SEALING_WORK_LIMITS, SealingRequestError, SealingWorker, type SealingWorkLimits } from "./request-runner.ts";
import type { SealingJob, SealingOutcome } from "../../secrets/sealed/requests.ts";
import { SEALED_SECRET_API_VERSION, SEALED_SECRET_RESOURCE, type SealedSecret, type Secret } from "../../secrets/sealed/types.ts";
import { UnsealError } from "../../secrets/sealed/unseal.ts";

export const DEFAULT_ROTATION_PERIOD_MS = 30 * 24 * 3600_000;
/** Re-checks every SealedSecret this often, which restores a deleted or edited Secret. */
export const DEFAULT_RESYNC_INTERVAL_MS = 10 * 60_000;

export interface SealedSecretsOptions {
  client: KubeClient;
  /** Where the sealing keys live (the controller's namespace). */
  namespace: string;
  logger: Logger;
  signal: AbortSignal;
  /** A new key after this long (default 30 days); 0 turns rotation off. */
  rotationPeriodMs?: number;
  /** RSA modulus bits (default 4096); tests use smaller keys, which generate in milliseconds. */
  keySize?: number;
  /** Create the CRD when absent (default true). */
  installCrd?: boolean;
  /** Only these namespaces' SealedSecrets (default: the whole cluster). */
  watchNamespaces?: string[];
  /** Only SealedSecrets with these labels (the controller's --watch-label-selector, as for every other kind). */
  watchLabelSelector?: string;
  concurrency?: number;
  resyncIntervalMs?: number;
  /**
   * Write unsealed Secrets outside `namespace` as this ServiceAccount of their namespace
   * (impersonation), so the controller itself needs no Secret writes there. Unset: as itself.
   */
  defaultServiceAccount?: string;
  /** Bounds on the work `verify` and `reEncrypt` do for anonymous callers (default DEFAULT_SEALING_WORK_LIMITS). */
  workLimits?: SealingWorkLimits;
}

export interface SealedSecretsController {
  /** The newest key's certificate (PEM), what `GET /v1/cert.pem` serves. */
  certificatePem(): string;
  /**
   * Whether a SealedSecret manifest (YAML or JSON) unseals with the controller's keys. Parsed
   * and checked on a worker thread; throws a SealingRequestError for a body it refuses (400,
   * 413) and when busy (429, 503), with a value-free message.
   */
  verify(manifest: string): Promise<boolean>;
  /** The SealedSecret sealed again with the newest key; throws a SealingRequestError (409) when it does not unseal, and as verify does. */
  reEncrypt(manifest: string): Promise<SealedSecret>;
  /** Generates a key now (it seals from then on); returns its Secret's name. */
  rotateKey(): Promise<string>;
  /** Names of the key Secrets, newest first. */
  keyNames(): string[];
  /** Resolves once the runner has stopped after `signal` aborted. */
  stopped: Promise<void>;
}

/** What is safe to log about a failure: API errors by status and reason (their messages may quote objects). */
function describeFailure(error: unknown): Record<string, unknown> {
  if (error instanceof KubeApiError) return { statusCode: error.statusCode, reason: error.reason };
  return { error: error instanceof Error ? error.name : typeof error };
}

export async function startSealedSecrets(options: SealedSecretsOptions): Promise<SealedSecretsController> {
  const { client, logger, signal } = options;
  const period = options.rotationPeriodMs ?? DEFAULT_ROTATION_PERIOD_MS;
  const keys = new SealingKeys(client, options.namespace, logger, options.keySize);
  await keys.refresh(signal);
  if (keys.ring.size === 0 || (period > 0 && rotationDelay(keys.ring.newest()?.notBefore, period) === 0)) await keys.generate();
  if (options.installCrd !== false && (await ensureSealedSecretCrd(client))) logger.info("installed the SealedSecret CRD (bitnami.com/v1alpha1)");

  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, action: () => void) => {
    if (signal.aborted) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!signal.aborted) action();
    }, Math.min(ms, MAX_TIMER_MS));
    timers.add(timer);
  };

  // Rotation: wake when the newest key reaches `period` (in steps: timers cap at ~24.8 days),
  // re-read the keys first in case another replica or a restore already added a newer one.
  const scheduleRotation = () => {
    if (period <= 0) return;
    later(rotationDelay(keys.ring.newest()?.notBefore, period), () => {
      void (async () => {
        try {
          await keys.refresh(signal);
          if (rotationDelay(keys.ring.newest()?.notBefore, period) === 0) await keys.generate();
          scheduleRotation();
        } catch (error) {
          if (signal.aborted) return;
          logger.error(describeFailure(error), "sealing key rotation failed; retrying in a minute");
          later(60_000, scheduleRotation);
        }
      })();
    });
  };
  scheduleRotation();

  const secretWriter = (namespace: string): SecretWriter => {
    if (!options.defaultServiceAccount || namespace === options.namespace) return { client };
    const user = `system:serviceaccount:${namespace}:${options.defaultServiceAccount}`;
    return { client: client.impersonating(user), user };
  };
  const requests = new SealingWorker(options.workLimits ?? DEFAULT_SEALING_WORK_LIMITS);
  const context: ReconcileContext = {
    client,
    logger,
    secretWriter,
    privateKeys: () => keys.ring.privateKeys(),
    refreshKeys: () => keys.refreshIfStale(),
    // On the worker thread too: a tenant's SealedSecret can hold thousands of values. It waits
    // its turn behind the routes' requests but is never refused for their budget.
    unseal: async (sealedSecret, privateKeys) => {
      let outcome: SealingOutcome;
      try {
        outcome = await requests.run({ op: "unseal", sealedSecret, privateKeys }, { budgeted: false });
      } catch (error) {
        // What the object itself brought about is reported on it, like any other unseal failure.
        if (error instanceof SealingRequestError && (error.reason === "too-slow" || error.reason === "worker-lost")) throw new UnsealError(error.message);
        throw error;
      }
      if (outcome.kind !== "unsealed") throw new UnsealError(outcome.message);
      return outcome.result as Secret;
    },
  };

  // The same skeleton as every other kind: the manager's watch (with the label selector), queue
  // and requeue policy; a success comes back after the resync interval, which restores a deleted
  // or edited Secret, and a retry backs off.
  const resyncIntervalMs = options.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS;
  const manager = new ReconcileManager({ client, logger, concurrency: options.concurrency ?? 2, ...(options.watchLabelSelector ? { labelSelector: options.watchLabelSelector } : {}) });
  manager.register<KubeObject>({
    kind: "SealedSecret",
    watchPaths: options.watchNamespaces ? options.watchNamespaces.map((namespace) => sealedSecretPath(namespace)) : [`/apis/${SEALED_SECRET_API_VERSION}/${SEALED_SECRET_RESOURCE}`],
    objectPath: (namespace, name) => sealedSecretPath(namespace, name),
    // reconcileSealedSecret reads the object itself; the cached copy only says it exists.
    cacheIsCurrent: () => true,
    // A new object or a new spec (generation); status writes, the controller's own included, do not re-trigger.
    needsReconcile: (previous: KubeObject | undefined, next: KubeObject) => !previous || previous.metadata.uid !== next.metadata.uid || previous.metadata.generation !== next.metadata.generation,
    async reconcile(object) {
      const namespace = object.metadata.namespace ?? "";
      const name = object.metadata.name ?? "";
      const reported = { kind: "SealedSecret", namespace, name, ...(object.metadata.uid ? { uid: object.metadata.uid } : {}) };
      try {
        const result = await reconcileSealedSecret(context, namespace, name);
        return { report: reportOf({ object: reported, result: result === "retry" ? "failed" : "success", reason: result === "retry" ? "RetryLater" : "Reconciled", message: result, ready: result === "done", previousReady: false }), intervalMs: resyncIntervalMs };
      } catch (error) {
        // Logged by status and reason only: API error messages may quote objects.
        logger.error({ sealedSecret: `${namespace}/${name}`, ...describeFailure(error) }, "SealedSecret reconcile failed; retrying with backoff");
        return { report: reportOf({ object: reported, result: "failed", reason: "ReconcileFailed", message: "see the controller log", ready: false, previousReady: false }), intervalMs: resyncIntervalMs };
      }
    },
  });
  const watching = manager.run(signal);

  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      void Promise.all([watching.catch(() => undefined), requests.close()]).then(() => resolve());
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });

  const newest = () => {
    const key = keys.ring.newest();
    if (!key) throw new Error("no sealing key");
    return key;
  };
  // A SealedSecret no key opens may be sealed with a key another replica or a restore just
  // added: the keys are re-read (at most every few seconds) and the job run once more.
  const unsealed = async (job: () => SealingJob): Promise<Exclude<SealingOutcome, { kind: "refused" }>> => {
    let outcome = await requests.run(job());
    if (outcome.kind === "sealed-elsewhere" && (await keys.refreshIfStale())) outcome = await requests.run(job());
    if (outcome.kind === "refused") throw new SealingRequestError(outcome.message, outcome.statusCode, "invalid");
    return outcome;
  };
  return {
    certificatePem: () => newest().certificatePem,
    verify: async (manifest) => (await unsealed(() => ({ op: "verify", manifest, privateKeys: keys.ring.privateKeys() }))).kind === "unsealed",
    reEncrypt: async (manifest) => {
      const outcome = await unsealed(() => ({ op: "rotate", manifest, privateKeys: keys.ring.privateKeys(), publicKey: newest().publicKey }));
      if (outcome.kind === "sealed-elsewhere") throw new SealingRequestError(outcome.message, 409, "does-not-unseal");
      return outcome.result as SealedSecret;
    },
    rotateKey: async () => {
      const key = await keys.generate();
      return key.name;
    },
    keyNames: () => keys.ring.names(),
    stopped,
  };
}
