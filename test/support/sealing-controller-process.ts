/**
 * The Sealed Secrets runner and the controller's HTTP server, wired as `fjord controller` wires
 * them, in a process of their own: a test measures this process's event loop (through its
 * /metrics, as an operator would) without its own work in the way. Unlike `fjord controller`,
 * it watches one namespace only, so it leaves other tests' SealedSecrets alone.
 *
 *   node --import tsx test/support/sealing-controller-process.ts <kubeconfig> <namespace> <key bits>
 *
 * Prints one JSON line, `{ "url": ..., "certificate": ... }`, once it serves; stops on SIGTERM.
 */
import { pino } from "pino";
import { KubeClient } from "../../src/kube/client.ts";
import { startSealedSecrets } from "../../src/controller/sealed-secrets/index.ts";
import { createControllerMetrics } from "../../src/controller/metrics.ts";
import { createControllerServer } from "../../src/server/index.ts";

const [kubeconfig = "", namespace = "", keyBits = "4096"] = process.argv.slice(2);
const client = KubeClient.load({ kubeconfig });
const stop = new AbortController();
const runner = await startSealedSecrets({ client, logger: pino({ level: "silent" }), signal: stop.signal, namespace, watchNamespaces: [namespace], keySize: Number(keyBits) });
const server = createControllerServer({
  receivers: [],
  onPush: () => Promise.resolve(0),
  metrics: createControllerMetrics(),
  readiness: () => true,
  logger: pino({ level: "silent" }),
  sealingCertificate: () => runner.certificatePem(),
  verifySealedSecret: (manifest) => runner.verify(manifest),
  reEncryptSealedSecret: (manifest) => runner.reEncrypt(manifest),
});
const url = await server.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`${JSON.stringify({ url, certificate: runner.certificatePem() })}\n`);
process.once("SIGTERM", () => {
  stop.abort();
  void Promise.all([server.close(), runner.stopped]).then(() => client.close());
});
