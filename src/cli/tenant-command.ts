import { Command } from "commander";
import { emptyInventory } from "../inventory/inventory.ts";
import type { InventoryStore } from "../inventory/configmap-store.ts";
import { DEFAULT_NAMESPACE } from "../install/options.ts";
import { DEFAULT_TENANT_CLUSTER_ROLE, DEFAULT_TENANT_SERVICE_ACCOUNT, tenantObjects, tenantOptions } from "../install/tenant.ts";
import { toYamlDocuments } from "../install/manifests.ts";
import { isNotFound } from "../kube/errors.ts";
import { checkName } from "../kube/names.ts";
import { syncObjects } from "../sync/sync.ts";
import { exportHeader } from "./install-command.ts";
import { addKubeOptions, kubeClient, runCli, type KubeFlags } from "./kube-options.ts";
import { formatChangeSet } from "./output.ts";

interface TenantFlags extends KubeFlags {
  serviceAccount: string;
  clusterRole: string;
  controllerNamespace: string;
  export?: boolean;
}

/** Tenant objects are not an Application's: no inventory, nothing pruned. */
const NO_INVENTORY: InventoryStore = { load: () => Promise.resolve({ inventory: emptyInventory() }), save: () => Promise.resolve(), reserve: () => Promise.resolve(true) };

/** `fjord tenant create NAMESPACE`: a namespace whose Applications fjord applies as its own ServiceAccount. */
export function tenantCommand(): Command {
  const create = new Command("create")
    .description("set up a namespace for a team: the namespace (unless it exists), a ServiceAccount its Applications apply as, its RoleBinding, and the RoleBinding that lets fjord impersonate in it")
    .argument("<namespace>", "the tenant's namespace")
    .option("--service-account <name>", "ServiceAccount the namespace's Applications apply as (spec.serviceAccountName, or the controller's --default-service-account)", DEFAULT_TENANT_SERVICE_ACCOUNT)
    .option("--cluster-role <name>", "ClusterRole that ServiceAccount gets, in the namespace only", DEFAULT_TENANT_CLUSTER_ROLE)
    .option("--controller-namespace <ns>", "namespace of the fjord controller (its ServiceAccount fjord-controller impersonates)", DEFAULT_NAMESPACE)
    .option("--export", "print the objects as YAML instead of applying them");
  addKubeOptions(create);
  create.action((namespace: string, flags: TenantFlags) =>
    runCli(async () => {
      const options = tenantOptions({
        namespace: checkName(namespace, "namespace", "namespace"),
        serviceAccount: checkName(flags.serviceAccount, "--service-account", "object"),
        clusterRole: checkName(flags.clusterRole, "--cluster-role", "rbac"),
        controllerNamespace: checkName(flags.controllerNamespace, "--controller-namespace", "namespace"),
      });
      const objects = tenantObjects(options);
      if (flags.export) {
        const given = [
          ...(options.serviceAccount === DEFAULT_TENANT_SERVICE_ACCOUNT ? [] : ["--service-account", options.serviceAccount]),
          ...(options.clusterRole === DEFAULT_TENANT_CLUSTER_ROLE ? [] : ["--cluster-role", options.clusterRole]),
          ...(options.controllerNamespace === DEFAULT_NAMESPACE ? [] : ["--controller-namespace", options.controllerNamespace]),
        ];
        process.stdout.write(toYamlDocuments(objects, exportHeader(["fjord tenant create", namespace, ...given, "--export"].join(" "))));
        return 0;
      }
      const client = kubeClient(flags);
      try {
        // An existing namespace is left as it is (its labels and annotations are someone else's).
        const exists = await client.request("GET", `/api/v1/namespaces/${namespace}`).then(
          () => true,
          (error: unknown) => {
            if (isNotFound(error)) return false;
            throw error;
          },
        );
        const result = await syncObjects({
          client,
          inventoryStore: NO_INVENTORY,
          objects: objects.filter((object) => !(exists && object.kind === "Namespace")).map((object) => ({ object, source: { file: "fjord tenant create" } })),
          owner: { name: "fjord-tenant", namespace },
          defaultNamespace: namespace,
        });
        const changes = formatChangeSet(result.changes);
        if (changes) process.stdout.write(`${changes}\n`);
        process.stderr.write(
          `tenant ${namespace} ready${exists ? " (the namespace existed and was left as it is)" : ""}: its Applications apply as ServiceAccount ${namespace}/${options.serviceAccount} ` +
            `(ClusterRole ${options.clusterRole} in ${namespace} only) with spec.serviceAccountName: ${options.serviceAccount}, or without it when the controller runs with --default-service-account=${options.serviceAccount}\n`,
        );
        return 0;
      } finally {
        client.close();
      }
    }),
  );
  return new Command("tenant").description("onboard a team's namespace (least-privilege installs)").addCommand(create);
}
