import { stringify } from "yaml";
import { customResourceDefinitions } from "../api/crds.ts";
import type { KubeObject } from "../model/object.ts";
import type { InstallOptions } from "./options.ts";
import { networkPolicy } from "./network-policy.ts";
import { rbacObjects } from "./rbac.ts";
import { admissionWebhook, deployment, namespaceObject, service, serviceAccount } from "./workload.ts";

/** Everything `fjord install` applies, in a stable order that also works for `kubectl apply -f`. */
export function installManifests(options: InstallOptions): KubeObject[] {
  return [
    namespaceObject(options),
    ...customResourceDefinitions(),
    ...rbacObjects(options),
    serviceAccount(options),
    service(options),
    networkPolicy(options),
    deployment(options),
    // Last: until the controller serves it, lock mode would refuse changes to managed objects.
    ...(options.admission ? [admissionWebhook(options)] : []),
  ];
}

/** Multi-document YAML; stable output, so a committed file only changes when the objects do. */
export function toYamlDocuments(objects: readonly KubeObject[], header?: string): string {
  const body = objects.map((object) => stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n");
  return header ? `${header.split("\n").map((line) => `# ${line}`).join("\n")}\n${body}` : body;
}
