/**
 * Serving a controller HTTP server running in this test process through the API server's
 * service proxy, as kubeseal and `fjord seal` reach the controller in a cluster:
 * `/api/v1/namespaces/<ns>/services/http:fjord-controller:http/proxy/...`.
 */
import type { AddressInfo } from "node:net";
import os from "node:os";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import type { KubeClient } from "../../src/kube/client.ts";
import type { ControllerServer } from "../../src/server/index.ts";

/** Starts `server` where the API server can proxy to it, and exposes it as the Service `fjord-controller` in `namespace`. */
export async function serveThroughServiceProxy(t: TestContext, client: KubeClient, namespace: string, server: ControllerServer): Promise<void> {
  // The API server refuses to proxy to loopback addresses: listen on the host's own address.
  const hostIp = Object.values(os.networkInterfaces()).flat().find((address) => address?.family === "IPv4" && !address.internal)?.address;
  assert.ok(hostIp, "the test needs a non-loopback IPv4 address");
  await server.listen({ host: hostIp, port: 0 });
  t.after(() => server.close());
  const port = (server.server.address() as AddressInfo).port;
  await client.request("POST", `/api/v1/namespaces/${namespace}/services`, {
    body: { apiVersion: "v1", kind: "Service", metadata: { name: "fjord-controller" }, spec: { ports: [{ name: "http", port: 8080, targetPort: port }] } },
  });
  // What the API server's service proxy checks: Endpoints whose address belongs to a Pod with
  // that IP. The Pod is bound to a node that does not exist, so nothing runs or rewrites it.
  await client.request("POST", `/api/v1/namespaces/${namespace}/pods`, {
    body: { apiVersion: "v1", kind: "Pod", metadata: { name: "fjord-controller" }, spec: { nodeName: "fjord-test-no-such-node", containers: [{ name: "controller", image: "fjord" }] } },
  });
  await client.request("PATCH", `/api/v1/namespaces/${namespace}/pods/fjord-controller/status`, {
    body: { status: { phase: "Running", podIP: hostIp, podIPs: [{ ip: hostIp }] } },
    contentType: "application/merge-patch+json",
  });
  await client.request("POST", `/api/v1/namespaces/${namespace}/endpoints`, {
    body: {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "fjord-controller" },
      subsets: [{ addresses: [{ ip: hostIp, targetRef: { kind: "Pod", name: "fjord-controller", namespace } }], ports: [{ name: "http", port }] }],
    },
  });
}
