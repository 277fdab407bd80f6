import os from "node:os";
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { runController, type ControllerHandle } from "../controller/controller.ts";
import { Tenancy } from "../controller/tenancy.ts";
import { DEFAULT_CLUSTER_NAME } from "../controller/notify/commit-status.ts";
import { LeaderElector } from "../controller/leader-election.ts";
import { KubeClient } from "../kube/client.ts";
import { checkName, isDnsLabel } from "../kube/names.ts";
import { createControllerMetrics } from "../controller/metrics.ts";
import { createControllerServer, createMetricsServer, type Receiver } from "../server/index.ts";
import { startSealedSecrets, type SealedSecretsController } from "../controller/sealed-secrets/index.ts";
import { describeToolSandbox } from "../render/tool-sandbox.ts";
import { parseDuration } from "../util/duration.ts";
import { createLogger } from "../util/logger.ts";
import type { HistoryBounds } from "../history/entry.ts";
import { admissionMode, certificateNames, startAdmissionWebhook } from "./admission-webhook.ts";
import { whoAmI } from "./whoami.ts";
import { DEFAULT_WEBHOOK_CONFIGURATION_NAME } from "../admission/webhook-configuration.ts";
import { DEFAULT_CERTIFICATE_SECRET } from "../admission/serving-certificate.ts";
import { CONTROLLER_NAME } from "../install/options.ts";
import type { AdmissionServer } from "../server/index.ts";

interface ControllerFlags {
  kubeconfig?: string;
  context?: string;
  concurrency: string;
  bindAddress: string;
  metricsBindAddress?: string;
  leaderElect?: boolean;
  leaderElectionNamespace: string;
  identity: string;
  installCrds: boolean;
  webhookConfig?: string;
  allowCrossNamespaceSources?: boolean;
  /** False with --no-cross-namespace-refs (commander's negated flag). */
  crossNamespaceRefs: boolean;
  defaultServiceAccount?: string;
  watchLabelSelector?: string;
  sealedSecrets: boolean;
  sealingKeyNamespace?: string;
  keyRotationPeriod: string;
  historyLimit: string;
  historyMaxAge: string;
  clusterName: string;
  admission?: string;
  admissionBindAddress: string;
  admissionWebhookName: string;
  admissionSecret: string;
  admissionService: string;
  admissionHost: string[];
  breakGlassGroup: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `--history-limit` and `--history-max-age`: what each Application's history keeps. */
export function historyBounds(limit: string, maxAge: string): HistoryBounds {
  const count = Number(limit);
  if (!Number.isSafeInteger(count) || count < 1 || count > 10_000) throw new Error(`--history-limit must be a whole number from 1 to 10000, not ${JSON.stringify(limit)}`);
  const maxAgeMs = parseDuration(maxAge);
  if (maxAgeMs <= 0) throw new Error(`--history-max-age must be a positive duration, not ${JSON.stringify(maxAge)}`);
  return { limit: count, maxAgeMs };
}

/** The receiver file: JSON `{ "token": ..., "type": "github"|"gitlab"|"generic", "secret": ... }` (mounted from a Secret). */
export async function loadReceiver(file: string | undefined): Promise<Receiver | undefined> {
  if (!file) return undefined;
  const parsed = JSON.parse(await readFile(file, "utf8")) as { token?: string; type?: Receiver["type"]; secret?: string };
  if (!parsed.token || !parsed.secret || !["github", "gitlab", "generic"].includes(parsed.type ?? "")) {
    throw new Error(`${file} must hold {"token": "...", "type": "github|gitlab|generic", "secret": "..."}`);
  }
  // One path segment as the router matches it (at most 100 characters), needing no escaping: a longer token would never match.
  if (!/^[A-Za-z0-9._~-]{1,100}$/.test(parsed.token)) throw new Error(`${file}: the token must be 1 to 100 letters, digits, ".", "_", "~" or "-"`);
  return { token: parsed.token, type: parsed.type as Receiver["type"], secret: parsed.secret };
}

/** `host:port`, the host optional (all interfaces); an IPv6 host keeps its colons. */
function listenAddress(address: string): { host: string; port: number } {
  const [host = "0.0.0.0", port = "8080"] = address.split(/:(?=\d+$)/);
  return { host: host || "0.0.0.0", port: Number(port) };
}

/** `fjord controller`: the in-cluster agent (or out-of-cluster with a kubeconfig). */
export function controllerCommand(): Command {
  return new Command("controller")
    .description("run the GitOps controller: reconcile GitRepositories and Applications until stopped")
    .option("--kubeconfig <file>", "kubeconfig (default: in-cluster, $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context")
    .option("--concurrency <n>", "reconciles at once", "4")
    .option("--bind-address <host:port>", "webhooks, sealing routes, /healthz, /readyz (and /metrics without --metrics-bind-address)", "0.0.0.0:8080")
    .option("--metrics-bind-address <host:port>", "serve /metrics on a listener of its own instead")
    .option("--leader-elect", "elect a leader through a Lease so only one replica acts")
    .option("--leader-election-namespace <ns>", "namespace of the Lease", "fjord-system")
    .option("--identity <id>", "this replica's identity in the Lease", process.env.POD_NAME ?? os.hostname())
    .option("--no-install-crds", "do not install or update the CRDs at start")
    .option("--webhook-config <file>", "receiver config for POST /hook/<token> (JSON with token, type, secret)")
    .option("--watch-label-selector <selector>", "reconcile only objects with these labels, of every kind: GitRepositories, Applications, image kinds, SealedSecrets (e.g. shard=a)")
    .option("--no-sealed-secrets", "do not run the Sealed Secrets controller")
    .option("--sealing-key-namespace <ns>", "where the Sealed Secrets key pairs live (default: $POD_NAMESPACE, else the leader election namespace)")
    .option("--key-rotation-period <duration>", "a new sealing key after this long; old keys keep unsealing (0: never)", "720h")
    .option("--allow-cross-namespace-sources", "let Applications use a GitRepository in another namespace (off: namespaces are tenants)")
    .option("--no-cross-namespace-refs", "refuse every reference to an object of another namespace (sourceRef, dependsOn, imageRepositoryRef), whatever --allow-cross-namespace-sources says")
    .option("--default-service-account <name>", "apply Applications without spec.serviceAccountName as this ServiceAccount of their namespace (and write unsealed Secrets as it)")
    .option("--history-limit <n>", "history entries kept per Application (fjord history, fjord audit)", "100")
    .option("--history-max-age <duration>", "history entries older than this are dropped", "2160h")
    .option("--cluster-name <name>", "this cluster's name in commit statuses (context fjord/<cluster>/<namespace>/<application>); a DNS label", DEFAULT_CLUSTER_NAME)
    .option("--admission <mode>", "serve the validating admission webhook: observe (record who changes managed objects) or lock (deny it, break-glass groups aside)")
    .option("--admission-bind-address <host:port>", "where the admission webhook listens (TLS)", "0.0.0.0:9443")
    .option("--admission-webhook-name <name>", "the ValidatingWebhookConfiguration whose CA bundle the controller keeps current", DEFAULT_WEBHOOK_CONFIGURATION_NAME)
    .option("--admission-secret <name>", "Secret (in the controller's namespace) holding the webhook's CA and certificate", DEFAULT_CERTIFICATE_SECRET)
    .option("--admission-service <name>", "the Service the API server calls the webhook through (its DNS names go into the certificate)", CONTROLLER_NAME)
    .option("--admission-host <name>", "another DNS name or IP address for the webhook's certificate (repeatable)", collect, [])
    .option("--break-glass-group <group>", "in lock mode, members of this group may still change managed objects; recorded and reverted or kept per selfHeal (repeatable)", collect, [])
    .action(async (flags: ControllerFlags) => {
      const history = historyBounds(flags.historyLimit, flags.historyMaxAge);
      // The cluster name of commit-status contexts: a DNS label, like the names it sits between.
      if (!isDnsLabel(flags.clusterName)) throw new Error(`--cluster-name must be a DNS label (lower-case letters, digits and "-", at most 63), not ${JSON.stringify(flags.clusterName)}`);
      const logger = createLogger("controller");
      if (flags.defaultServiceAccount !== undefined) checkName(flags.defaultServiceAccount, "--default-service-account", "object");
      const tenancy = new Tenancy({
        allowCrossNamespaceSources: flags.allowCrossNamespaceSources === true,
        noCrossNamespaceRefs: flags.crossNamespaceRefs === false,
        ...(flags.defaultServiceAccount ? { defaultServiceAccount: flags.defaultServiceAccount } : {}),
      });
      const client = KubeClient.load({ ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) });
      const metrics = createControllerMetrics();
      const mode = flags.admission === undefined ? undefined : admissionMode(flags.admission);
      // Who fjord is, as the API server says: the webhook never stands in its own way.
      const admission = mode ? { mode, breakGlassGroups: flags.breakGlassGroup, controllerUser: await whoAmI(client) } : undefined;
      const receiver = await loadReceiver(flags.webhookConfig);
      const rotationPeriodMs = flags.keyRotationPeriod === "0" ? 0 : parseDuration(flags.keyRotationPeriod);
      // Only the leader holds the sealing keys (two replicas starting at once must not both generate one);
      // a follower answers 503 for the certificate until it leads.
      let sealed: SealedSecretsController | undefined;
      const notLeading = () => Promise.reject(Object.assign(new Error("sealed secrets are not running on this replica"), { statusCode: 503 }));
      const stop = new AbortController();
      let handle: ControllerHandle | undefined;
      let ready = false;
      const server = createControllerServer({
        metrics,
        logger,
        readiness: () => ready,
        ...(flags.sealedSecrets
          ? {
              sealingCertificate: () => sealed?.certificatePem(),
              verifySealedSecret: (manifest: string) => (sealed ? sealed.verify(manifest) : notLeading()),
              reEncryptSealedSecret: (manifest: string) => (sealed ? sealed.reEncrypt(manifest) : notLeading()),
            }
          : {}),
        serveMetrics: flags.metricsBindAddress === undefined,
        receivers: receiver ? [receiver] : [],
        onPush: (event) => Promise.resolve(handle?.triggerSources(event.repositoryUrls) ?? 0),
        // Only the leading replica has a table: a follower answers every Receiver path as unknown.
        receiverRoutes: () => handle?.receiverRoutes() ?? [],
      });
      const address = await server.listen(listenAddress(flags.bindAddress));
      logger.info({ address }, flags.metricsBindAddress === undefined ? "serving webhooks, sealing routes, metrics and probes" : "serving webhooks, sealing routes and probes");
      const metricsServer = flags.metricsBindAddress === undefined ? undefined : createMetricsServer({ metrics, logger });
      if (metricsServer) logger.info({ address: await metricsServer.listen(listenAddress(flags.metricsBindAddress ?? "")) }, "serving metrics");
      let admissionServer: AdmissionServer | undefined;
      if (admission) {
        const namespace = process.env.POD_NAMESPACE ?? flags.leaderElectionNamespace;
        const started = await startAdmissionWebhook({
          client,
          logger: logger.child({ component: "admission" }),
          mode: admission.mode,
          location: { namespace, secretName: flags.admissionSecret, ...certificateNames(flags.admissionService, namespace, flags.admissionHost) },
          webhookConfigurationName: flags.admissionWebhookName,
          address: listenAddress(flags.admissionBindAddress),
          // Until this replica runs the loop (a follower, or still starting) it knows of no managed object.
          review: (request) => handle?.reviewAdmission(request) ?? { allowed: true },
          signal: stop.signal,
        });
        admissionServer = started.server;
        logger.info({ address: started.address, mode: admission.mode, controllerUser: admission.controllerUser, breakGlassGroups: admission.breakGlassGroups }, "serving the admission webhook");
      }
      const sandbox = await describeToolSandbox();
      logger.info({ toolSandbox: sandbox.level }, `render tool confinement: ${sandbox.description}`);
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());

      // Sealed Secrets start beside the GitOps loop, never blocking it: a missing key namespace or
      // a slow 4096-bit key generation must not stop Git from being applied.
      const startSealing = async (signal: AbortSignal) => {
        while (!signal.aborted) {
          try {
            sealed = await startSealedSecrets({
              client,
              logger: logger.child({ component: "sealed-secrets" }),
              signal,
              namespace: flags.sealingKeyNamespace ?? process.env.POD_NAMESPACE ?? flags.leaderElectionNamespace,
              rotationPeriodMs,
              ...(flags.watchLabelSelector ? { watchLabelSelector: flags.watchLabelSelector } : {}),
              ...(flags.defaultServiceAccount ? { defaultServiceAccount: flags.defaultServiceAccount } : {}),
            });
            return;
          } catch (error) {
            if (signal.aborted) return;
            logger.error({ error: error instanceof Error ? error.message : String(error) }, "Sealed Secrets could not start; retrying in 30 s");
            await new Promise((resolve) => setTimeout(resolve, 30_000).unref());
          }
        }
      };
      const run = async (signal: AbortSignal) => {
        if (flags.sealedSecrets) void startSealing(signal);
        try {
          await runController(
            {
              client,
              logger,
              metrics,
              concurrency: Number(flags.concurrency),
              installCrds: flags.installCrds,
              tenancy,
              history,
              clusterName: flags.clusterName,
              // Undelivered notifications are kept across restarts in a Secret of the controller's own namespace.
              notify: { persistNamespace: process.env.POD_NAMESPACE ?? flags.leaderElectionNamespace },
              ...(admission ? { admission } : {}),
              ...(flags.watchLabelSelector ? { watchLabelSelector: flags.watchLabelSelector } : {}),
              onStarted: (started) => {
                handle = started;
                ready = true;
              },
            },
            signal,
          );
        } finally {
          await sealed?.stopped;
          sealed = undefined;
        }
      };
      try {
        if (flags.leaderElect) {
          // Followers are ready too: they serve probes and wait for the lease.
          ready = true;
          await new LeaderElector(client, {
            namespace: flags.leaderElectionNamespace,
            name: "fjord-controller",
            identity: flags.identity,
            logger,
            onStartedLeading: run,
          }).run(stop.signal);
        } else {
          await run(stop.signal);
        }
      } finally {
        await server.close();
        await metricsServer?.close();
        await admissionServer?.close();
        client.close();
        logger.info("stopped");
      }
    });
}
