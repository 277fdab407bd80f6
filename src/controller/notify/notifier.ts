/**
 * Notifications, wired to the reconcile skeleton: the Provider and Alert kinds are reconciled
 * by the manager like every other kind (their watch caches are what events are matched
 * against), and the notifier observes every ReconcileReport, turns it into events
 * (events.ts), rate-limits repeated failures (rate-limit.ts), matches Alerts (match.ts) and
 * hands a request per matching Provider to its queue (delivery.ts). Observing never waits.
 *
 * A Provider's address and token are read from its Secret when the Provider is reconciled and
 * kept in memory only; they never enter a status, a log line or an event body.
 */
import type { Registry } from "prom-client";
import { isReady, setCondition } from "../../api/conditions.ts";
import { fjordResourcePath } from "../../api/paths.ts";
import { APPLICATION_KIND, ConditionType, GIT_REPOSITORY_KIND, type Application, type GitRepository } from "../../api/types.ts";
import { ALERT_KIND, ALERT_RESOURCE, isCommitStatusType, PROVIDER_KIND, PROVIDER_RESOURCE, type Alert, type Provider } from "../../api/notification-types.ts";
import type { KubeClient } from "../../kube/client.ts";
import { isNotFound } from "../../kube/errors.ts";
import type { KubeObject } from "../../model/object.ts";
import { parseDuration } from "../../util/duration.ts";
import type { Logger } from "../../util/logger.ts";
import { readReferencedSecret } from "../referenced-secret.ts";
import { objectKey, type Reconciler } from "../runtime/reconciler.ts";
import { describeError, reportOf, type ReconcileObserver, type ReconcileReport } from "../runtime/report.ts";
import { patchStatus } from "../runtime/status-patch.ts";
import { NotificationDelivery } from "./delivery.ts";
import { NotificationQueueStore } from "./queue-store.ts";
import { eventsOfReport } from "./events.ts";
import { alertMatches, compileAlert, type CompiledAlert } from "./match.ts";
import { providerRequest, redactAddress, type ProviderRequest, type ProviderTarget } from "./payload.ts";
import { commitOfRevision, commitStateOf, commitStatusRequest, commitStatusTokenProblem, DEFAULT_CLUSTER_NAME, PROGRESSING_REASON, statusContext, statusDescription } from "./commit-status.ts";
import { CommitStatusAddressError, commitStatusRepository, type CommitStatusRepository } from "./commit-status-repository.ts";
import type { NotificationEvent } from "./events.ts";
import { FailureRateLimiter } from "./rate-limit.ts";

export interface NotifierOptions {
  client: KubeClient;
  logger: Logger;
  registry?: Registry;
  /** The cache of a kind, to read an event's object (labels, interval). */
  caches: (kind: string) => Map<string, KubeObject>;
  /** Repeats of one failure (object and reason) sent at most once per this; default: the object's spec.interval, else 10m. */
  failureIntervalMs?: number;
  queueLimit?: number;
  attempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** The cluster's name in commit status contexts (`fjord/<cluster>/<namespace>/<name>`); default "default". */
  clusterName?: string;
  /** Keep undelivered notifications across restarts in a Secret of this namespace (the controller's own); default: in memory only. */
  persistNamespace?: string;
  /** How often at most the persisted queue is written while it changes. */
  persistFlushMs?: number;
}

/** A Provider as the notifier keeps it: where to send, and for commit-status types the repository when the Provider names one. */
type Target = ProviderTarget & { timeoutMs: number; repository?: CommitStatusRepository };

const DEFAULT_FAILURE_INTERVAL_MS = 10 * 60_000;
const PROVIDER_RESYNC_MS = 10 * 60_000;

/** Ready condition reasons of the notification kinds. */
export const NotificationReason = { Succeeded: "Succeeded", InvalidProvider: "InvalidProvider", SecretNotFound: "SecretNotFound", InvalidPattern: "InvalidPattern", ProviderNotFound: "ProviderNotFound" } as const;

class ProviderConfigError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_ADDRESS: Partial<Record<string, string>> = { telegram: "https://api.telegram.org", slack: "https://slack.com/api/chat.postMessage" };

export class Notifier {
  private readonly targets = new Map<string, Target>();
  private readonly alerts = new Map<string, CompiledAlert>();
  private readonly limiter = new FailureRateLimiter();
  readonly delivery: NotificationDelivery;
  private readonly store: NotificationQueueStore | undefined;

  constructor(private readonly options: NotifierOptions) {
    this.store = options.persistNamespace
      ? new NotificationQueueStore({
          client: options.client,
          logger: options.logger,
          namespace: options.persistNamespace,
          ...(options.persistFlushMs !== undefined ? { flushIntervalMs: options.persistFlushMs } : {}),
          onDropped: (provider) => this.delivery.countDropped(provider),
        })
      : undefined;
    this.delivery = new NotificationDelivery({
      logger: options.logger,
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.queueLimit !== undefined ? { queueLimit: options.queueLimit } : {}),
      ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
      ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
      ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
      onDelivered: (provider) => void this.recordDelivery(provider, undefined),
      onFailed: (provider, message) => void this.recordDelivery(provider, message),
      onChange: () => this.store?.changed(),
    });
    this.store?.track(() => this.delivery.snapshot());
  }

  /** Queues again what the last controller left undelivered, in its order, before any new event. */
  async restore(): Promise<void> {
    for (const { provider, item } of (await this.store?.restore()) ?? []) this.delivery.enqueue(provider, item);
  }

  /** Stops sending; what is still pending is persisted (when persistence is on) for the next controller. */
  async close(): Promise<void> {
    this.delivery.close();
    await this.store?.flush();
  }

  reconcilers(): Reconciler[] {
    const paths = (resource: string) => ({ watchPaths: [fjordResourcePath(resource)], objectPath: (namespace: string, name: string) => fjordResourcePath(resource, namespace, name) });
    return [
      { kind: PROVIDER_KIND, ...paths(PROVIDER_RESOURCE), reconcile: (object) => this.reconcileProvider(object as Provider), deleted: (object) => void this.targets.delete(`${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`) },
      { kind: ALERT_KIND, ...paths(ALERT_RESOURCE), reconcile: (object) => this.reconcileAlert(object as Alert), deleted: (object) => void this.alerts.delete(`${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`) },
    ];
  }

  observer(): ReconcileObserver {
    return (report) => this.observe(report);
  }

  /** Turns one report into queued notifications; synchronous, so the order of reports is the order sent. */
  observe(report: ReconcileReport): void {
    const { kind, namespace, name } = report.object;
    // Reports about the notification kinds themselves would loop (a failing Provider notifying through itself).
    if (kind === PROVIDER_KIND || kind === ALERT_KIND) return;
    const source = this.options.caches(kind).get(objectKey(kind, namespace, name));
    if (report.result === "success") this.limiter.forget(`${kind}/${namespace}/${name}`);
    for (const event of eventsOfReport(report)) {
      const alerts = this.matchingAlerts(event, source);
      // An event no Alert wants costs nothing more, and an unrouted failure does not use up its rate limit.
      if (alerts.length === 0) continue;
      let repeated = 0;
      if (event.failure) {
        const decision = this.limiter.admit(event.failure.object, event.failure.reason, this.failureInterval(source));
        if (!decision.send) continue;
        repeated = decision.suppressed;
      }
      this.route(event, source, alerts, repeated);
    }
  }

  /**
   * An Application started applying a revision: commit-status Providers mark that commit
   * pending. Chat Providers are not told (starting is not news to a person).
   */
  progressing(object: ReconcileReport["object"], revision: string): void {
    if (object.kind !== APPLICATION_KIND) return;
    const source = this.options.caches(object.kind).get(objectKey(object.kind, object.namespace, object.name));
    const event: NotificationEvent = { object, severity: "info", reason: PROGRESSING_REASON, message: `Applying revision ${revision}`, revision, timestamp: new Date().toISOString() };
    this.route(event, source, this.matchingAlerts(event, source), 0);
  }

  private matchingAlerts(event: NotificationEvent, source: KubeObject | undefined): CompiledAlert[] {
    return [...this.alerts.values()].filter((compiled) => alertMatches(compiled, event, source?.metadata.labels));
  }

  /** Queues the event for every Provider its matching Alerts route it to, once per Provider even when several Alerts do. */
  private route(event: NotificationEvent, source: KubeObject | undefined, alerts: readonly CompiledAlert[], repeated: number): void {
    const providers = new Set<string>();
    for (const { alert } of alerts) {
      const provider = `${alert.metadata.namespace}/${alert.spec.providerRef.name}`;
      const target = this.targets.get(provider);
      if (!target || providers.has(provider)) continue;
      providers.add(provider);
      try {
        const request = isCommitStatusType(target.type)
          ? this.commitStatus(target, event, source)
          : event.reason === PROGRESSING_REASON
            ? undefined
            : providerRequest(target, { ...event, ...(alert.spec.summary ? { summary: alert.spec.summary } : {}), ...(repeated ? { repeated } : {}) });
        if (request) this.delivery.enqueue(provider, { request, timeoutMs: target.timeoutMs, ...(target.caPem ? { caPem: target.caPem } : {}), ...(target.proxy ? { proxy: target.proxy } : {}) });
      } catch (error) {
        const message = describeError(error);
        this.options.logger.warn({ provider, error: message }, "could not build a notification");
        // A repository address that cannot take a status is the Provider's problem to show, like a failed delivery.
        if (error instanceof CommitStatusAddressError) void this.recordDelivery(provider, message);
      }
    }
  }

  /**
   * The commit status request for an Application's event, or undefined when the event sets none
   * (another kind, no revision, an event that says nothing about the commit). The repository is
   * the Provider's address, else the URL of the GitRepository the Application applied.
   */
  private commitStatus(target: Target, event: NotificationEvent, source: KubeObject | undefined): ProviderRequest | undefined {
    const { type, token } = target;
    if (!isCommitStatusType(type) || event.object.kind !== APPLICATION_KIND || !token) return undefined;
    const state = commitStateOf(event);
    const sha = commitOfRevision(event.revision);
    if (!state || !sha) return undefined;
    let repository = target.repository;
    if (!repository) {
      const sourceRef = (source as Application | undefined)?.spec.sourceRef;
      const gitRepository = sourceRef ? (this.options.caches(GIT_REPOSITORY_KIND).get(objectKey(GIT_REPOSITORY_KIND, sourceRef.namespace ?? event.object.namespace, sourceRef.name)) as GitRepository | undefined) : undefined;
      if (!gitRepository) return undefined;
      try {
        repository = commitStatusRepository(type, gitRepository.spec.url);
      } catch (error) {
        if (!(error instanceof CommitStatusAddressError)) throw error;
        throw new CommitStatusAddressError(`GitRepository ${gitRepository.metadata.namespace}/${gitRepository.metadata.name}: ${error.message}; or set the Provider's spec.address to the repository's URL`);
      }
    }
    const context = statusContext(this.options.clusterName ?? DEFAULT_CLUSTER_NAME, event.object.namespace, event.object.name);
    return commitStatusRequest(repository, token, { state, sha, context, description: statusDescription(event) });
  }

  private failureInterval(source: KubeObject | undefined): number {
    if (this.options.failureIntervalMs !== undefined) return this.options.failureIntervalMs;
    const interval = (source as { spec?: { interval?: unknown } } | undefined)?.spec?.interval;
    try {
      return typeof interval === "string" ? parseDuration(interval) : DEFAULT_FAILURE_INTERVAL_MS;
    } catch {
      return DEFAULT_FAILURE_INTERVAL_MS;
    }
  }

  private async providerTarget(provider: Provider): Promise<Target> {
    const { spec } = provider;
    let address = spec.address;
    let token: string | undefined;
    if (spec.secretRef) {
      const data = await this.secretData(provider.metadata.namespace, spec.secretRef.name, "");
      const read = (key: string) => (data[key] !== undefined ? Buffer.from(data[key], "base64").toString("utf8").trim() : undefined);
      address = read("address") || address;
      token = read("token") || undefined;
    }
    let timeoutMs = 15_000;
    try {
      if (spec.timeout) timeoutMs = parseDuration(spec.timeout);
    } catch {
      // The CRD's pattern admits only durations; keep the default for anything else.
    }
    // How the receiver is reached (a private CA, a proxy): for chat, generic and commit-status Providers alike.
    const caPem = spec.certSecretRef ? await this.certificateAuthority(provider.metadata.namespace, spec.certSecretRef.name) : undefined;
    const transport = { ...(caPem ? { caPem } : {}), ...(spec.proxy ? { proxy: spec.proxy } : {}) };
    if (isCommitStatusType(spec.type)) {
      const problem = commitStatusTokenProblem(spec.type, token);
      if (problem) throw new ProviderConfigError(NotificationReason.InvalidProvider, problem);
      let repository: CommitStatusRepository | undefined;
      try {
        repository = address ? commitStatusRepository(spec.type, address) : undefined;
      } catch (error) {
        if (error instanceof CommitStatusAddressError) throw new ProviderConfigError(NotificationReason.InvalidProvider, error.message);
        throw error;
      }
      return { type: spec.type, address: repository?.apiBase ?? "", timeoutMs, ...transport, ...(token ? { token } : {}), ...(repository ? { repository } : {}) };
    }
    address ||= DEFAULT_ADDRESS[spec.type];
    if (!address) throw new ProviderConfigError(NotificationReason.InvalidProvider, `no address: set spec.address or the address key of spec.secretRef`);
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      // Never echo the value: from a Secret it is a credential.
      throw new ProviderConfigError(NotificationReason.InvalidProvider, "the address is not a URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new ProviderConfigError(NotificationReason.InvalidProvider, `the address must be http or https, not ${url.protocol.replace(/:$/, "")}`);
    if ((spec.type === "generic-hmac" || spec.type === "telegram") && !token) throw new ProviderConfigError(NotificationReason.InvalidProvider, `type ${spec.type} needs the token key in spec.secretRef`);
    if (spec.type === "telegram" && !spec.channel) throw new ProviderConfigError(NotificationReason.InvalidProvider, "type telegram needs spec.channel (the chat id)");
    return { type: spec.type, address, timeoutMs, ...transport, ...(spec.channel ? { channel: spec.channel } : {}), ...(spec.username ? { username: spec.username } : {}), ...(token ? { token } : {}) };
  }

  /** A Secret of the Provider's namespace, read by name; a missing one is the Provider's SecretNotFound (`field` names the reference). */
  private async secretData(namespace: string, name: string, field: string): Promise<Record<string, string>> {
    const secret = await readReferencedSecret<{ data?: Record<string, string> }>(this.options.client, namespace, name).catch((error: unknown) => {
      if (isNotFound(error)) throw new ProviderConfigError(NotificationReason.SecretNotFound, `${field ? `${field}: ` : ""}Secret ${name} not found in namespace ${namespace}`);
      throw error;
    });
    return secret.data ?? {};
  }

  /** certSecretRef: the PEM in key ca.crt of a Secret of the Provider's namespace, read by name. */
  private async certificateAuthority(namespace: string, name: string): Promise<string> {
    const encoded = (await this.secretData(namespace, name, "certSecretRef"))["ca.crt"];
    const pem = encoded === undefined ? "" : Buffer.from(encoded, "base64").toString("utf8");
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new ProviderConfigError(NotificationReason.InvalidProvider, `certSecretRef: Secret ${namespace}/${name} has no PEM certificate in key ca.crt`);
    return pem;
  }

  private async reconcileProvider(provider: Provider) {
    const key = `${provider.metadata.namespace}/${provider.metadata.name}`;
    const object = { kind: PROVIDER_KIND, namespace: provider.metadata.namespace, name: provider.metadata.name, ...(provider.metadata.uid ? { uid: provider.metadata.uid } : {}) };
    const wasReady = isReady(provider.status?.conditions);
    let ready = { status: "True" as const, reason: NotificationReason.Succeeded, message: "" };
    let failure: Error | undefined;
    try {
      if (provider.spec.suspend) {
        this.targets.delete(key);
        ready.message = "suspended: nothing is sent";
      } else {
        const target = await this.providerTarget(provider);
        this.targets.set(key, target);
        ready.message = !isCommitStatusType(target.type)
          ? `sends to ${redactAddress(target.address)}`
          : target.repository
            ? `sets commit statuses on ${target.repository.display}`
            : "sets commit statuses on the repository of each Application's GitRepository";
      }
    } catch (error) {
      this.targets.delete(key);
      if (!(error instanceof ProviderConfigError)) throw error;
      failure = error;
      ready = { status: "False" as never, reason: error.reason as never, message: error.message };
    }
    const status = { ...provider.status, observedGeneration: provider.metadata.generation ?? 0, conditions: setCondition(provider.status?.conditions, { type: ConditionType.Ready, ...ready }, provider.metadata.generation) };
    await patchStatus(this.options.client, fjordResourcePath(PROVIDER_RESOURCE, object.namespace, object.name), provider.status, status);
    const report = reportOf({ object, result: failure ? "stalled" : "success", reason: ready.reason, message: ready.message, ready: !failure, previousReady: wasReady, ...(failure ? { error: failure } : {}) });
    // Re-read the Secret now and then: a rotated webhook URL is picked up without touching the Provider.
    return { report, intervalMs: PROVIDER_RESYNC_MS };
  }

  private async reconcileAlert(alert: Alert) {
    const key = `${alert.metadata.namespace}/${alert.metadata.name}`;
    const object = { kind: ALERT_KIND, namespace: alert.metadata.namespace, name: alert.metadata.name, ...(alert.metadata.uid ? { uid: alert.metadata.uid } : {}) };
    const wasReady = isReady(alert.status?.conditions);
    let ready: { status: "True" | "False"; reason: string; message: string };
    try {
      this.alerts.set(key, compileAlert(alert));
      const provider = this.options.caches(PROVIDER_KIND).get(objectKey(PROVIDER_KIND, alert.metadata.namespace, alert.spec.providerRef.name));
      ready = provider
        ? { status: "True", reason: NotificationReason.Succeeded, message: alert.spec.suspend ? "suspended: nothing is sent" : `sends to Provider ${alert.spec.providerRef.name}` }
        : { status: "False", reason: NotificationReason.ProviderNotFound, message: `Provider ${alert.spec.providerRef.name} not found in namespace ${alert.metadata.namespace}` };
    } catch (error) {
      this.alerts.delete(key);
      ready = { status: "False", reason: NotificationReason.InvalidPattern, message: describeError(error) };
    }
    const status = { ...alert.status, observedGeneration: alert.metadata.generation ?? 0, conditions: setCondition(alert.status?.conditions, { type: ConditionType.Ready, ...ready }, alert.metadata.generation) };
    await patchStatus(this.options.client, fjordResourcePath(ALERT_RESOURCE, object.namespace, object.name), alert.status, status);
    const ok = ready.status === "True";
    // A missing Provider may appear later: look again at the Provider resync pace; a bad pattern waits for a new spec.
    const result = ok ? "success" : ready.reason === NotificationReason.InvalidPattern ? "stalled" : "failed";
    return { report: reportOf({ object, result, reason: ready.reason, message: ready.message, ready: ok, previousReady: wasReady }), intervalMs: PROVIDER_RESYNC_MS, retryMaxMs: 60_000 };
  }

  /** The Provider's status after a delivery: when the last one arrived, or the last failure and why (no URL path or query). */
  private async recordDelivery(provider: string, failure: string | undefined): Promise<void> {
    const [namespace = "", name = ""] = provider.split("/");
    const time = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const status = failure === undefined ? { lastDeliveryTime: time } : { lastFailure: { time, message: failure.slice(0, 1024) } };
    await this.options.client
      .request("PATCH", `${fjordResourcePath(PROVIDER_RESOURCE, namespace, name)}/status`, { body: { status }, contentType: "application/merge-patch+json" })
      .catch((error: unknown) => this.options.logger.warn({ provider, error: describeError(error) }, "could not record a delivery in the Provider's status"));
  }
}
