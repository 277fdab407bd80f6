/** Services: only a LoadBalancer has something to wait for, its external address. */
import type { KubeObject } from "../model/object.ts";
import { recordsAt, stringAt } from "./fields.ts";
import { healthOf, type Health } from "./status.ts";

export function evaluateService(service: KubeObject): Health {
  const type = stringAt(service, "spec.type") ?? "ClusterIP";
  if (type !== "LoadBalancer") return healthOf(service, "Current", `Service type ${type} (nothing to wait for)`);
  // kstatus only checks for a cluster IP; what a user waits for is the external address,
  // which the cloud's load-balancer controller writes (Argo CD waits for it too).
  const addresses = recordsAt(service, "status.loadBalancer.ingress").flatMap((ingress) => {
    const address = stringAt(ingress, "ip") ?? stringAt(ingress, "hostname");
    return address ? [address] : [];
  });
  if (addresses.length === 0) return healthOf(service, "InProgress", "waiting for a load balancer address (status.loadBalancer.ingress is empty)");
  return healthOf(service, "Current", `load balancer at ${addresses.join(", ")}`);
}
