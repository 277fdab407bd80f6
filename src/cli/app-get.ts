import { Command, Option } from "commander";
import { stringify } from "yaml";
import type { Alert, Provider } from "../api/notification-types.ts";
import type { Receiver } from "../api/receiver-types.ts";
import type { Application, GitRepository } from "../api/types.ts";
import { addKubeOptions, kubeClient, runCli, type KubeFlags } from "./kube-options.ts";
import { addNamespaceOption, ALERT, APP, getObject, listObjects, PROVIDER, readyCondition, RECEIVER, revisionOf, SOURCE, stateOf, type FjordKind, type ListedObject, type NamespaceFlags } from "./app-resources.ts";
import { formatAge, formatTable, oneLine } from "./table.ts";

type GetFlags = KubeFlags & NamespaceFlags & { output: "table" | "json" | "yaml" };

interface Column<T> {
  header: string;
  value: (object: T, now: number) => string;
}

const ready = (object: ListedObject) => readyCondition(object)?.status ?? "Unknown";
const age = (object: ListedObject, now: number) => formatAge(object.metadata.creationTimestamp, now);

const APP_COLUMNS: Column<Application>[] = [
  { header: "NAME", value: (app) => app.metadata.name },
  { header: "READY", value: ready },
  { header: "STATE", value: stateOf },
  { header: "STATUS", value: (app) => oneLine(readyCondition(app)?.message) },
  { header: "REVISION", value: revisionOf },
  { header: "SUSPENDED", value: (app) => String(app.spec.suspend === true) },
  { header: "AGE", value: age },
];

const PROVIDER_COLUMNS: Column<Provider>[] = [
  { header: "NAME", value: (provider) => provider.metadata.name },
  { header: "TYPE", value: (provider) => provider.spec.type },
  { header: "READY", value: ready },
  // The Ready message shows the address without its path (where webhook tokens live).
  { header: "STATUS", value: (provider) => oneLine(readyCondition(provider)?.message) },
  { header: "LAST FAILURE", value: (provider) => oneLine(provider.status?.lastFailure ? `${provider.status.lastFailure.time} ${provider.status.lastFailure.message}` : "") },
  { header: "SUSPENDED", value: (provider) => String(provider.spec.suspend === true) },
  { header: "AGE", value: age },
];

const ALERT_COLUMNS: Column<Alert>[] = [
  { header: "NAME", value: (alert) => alert.metadata.name },
  { header: "PROVIDER", value: (alert) => alert.spec.providerRef.name },
  { header: "SEVERITY", value: (alert) => alert.spec.eventSeverity ?? "info" },
  { header: "READY", value: ready },
  { header: "STATUS", value: (alert) => oneLine(readyCondition(alert)?.message) },
  { header: "SUSPENDED", value: (alert) => String(alert.spec.suspend === true) },
  { header: "AGE", value: age },
];

const RECEIVER_COLUMNS: Column<Receiver>[] = [
  { header: "NAME", value: (receiver) => receiver.metadata.name },
  { header: "TYPE", value: (receiver) => receiver.spec.type },
  { header: "READY", value: ready },
  // What to give the Git host or registry, appended to the controller's webhook URL.
  { header: "PATH", value: (receiver) => receiver.status?.webhookPath ?? "" },
  { header: "STATUS", value: (receiver) => oneLine(readyCondition(receiver)?.message) },
  { header: "SUSPENDED", value: (receiver) => String(receiver.spec.suspend === true) },
  { header: "AGE", value: age },
];

const SOURCE_COLUMNS: Column<GitRepository>[] = [
  { header: "NAME", value: (source) => source.metadata.name },
  { header: "URL", value: (source) => source.spec.url },
  { header: "READY", value: ready },
  { header: "STATE", value: stateOf },
  { header: "REVISION", value: revisionOf },
  { header: "AGE", value: age },
];

function render<T extends ListedObject>(objects: T[], columns: Column<T>[], flags: GetFlags): string {
  if (flags.output === "json") return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`;
  if (flags.output === "yaml") return stringify({ apiVersion: "v1", kind: "List", items: objects }, { lineWidth: 0 });
  const now = Date.now();
  const all: Column<T>[] = flags.allNamespaces ? [{ header: "NAMESPACE", value: (object) => object.metadata.namespace }, ...columns] : columns;
  return `${formatTable(all.map((column) => column.header), objects.map((object) => all.map((column) => column.value(object, now))))}\n`;
}

function getSubcommand<T extends ListedObject>(name: string, aliases: string[], kind: FjordKind, columns: Column<T>[], what: string): Command {
  const command = new Command(name).aliases(aliases).description(`list ${what}`).argument("[name]", "only this one");
  addNamespaceOption(command, true).addOption(new Option("-o, --output <format>", "output format").choices(["table", "json", "yaml"]).default("table"));
  addKubeOptions(command);
  return command.action((only: string | undefined, flags: GetFlags) =>
    runCli(async () => {
      const client = kubeClient(flags);
      try {
        const objects = only ? [await getObject<T>(client, kind, flags.namespace, only)] : await listObjects<T>(client, kind, flags);
        if (objects.length === 0 && flags.output === "table") {
          process.stderr.write(`no ${what} found${flags.allNamespaces ? "" : ` in namespace ${flags.namespace}`}\n`);
          return 0;
        }
        process.stdout.write(render(objects, columns, flags));
        return 0;
      } finally {
        client.close();
      }
    }),
  );
}

/** `fjord get apps|sources`: what fjord manages and how it is doing. */
export function getCommand(): Command {
  return new Command("get")
    .description("list Applications, GitRepositories, Providers, Alerts or Receivers with their readiness")
    .addCommand(getSubcommand<Application>("apps", ["app", "applications"], APP, APP_COLUMNS, "Applications"))
    .addCommand(getSubcommand<GitRepository>("sources", ["source", "gitrepositories"], SOURCE, SOURCE_COLUMNS, "GitRepositories"))
    .addCommand(getSubcommand<Provider>("providers", ["provider"], PROVIDER, PROVIDER_COLUMNS, "Providers"))
    .addCommand(getSubcommand<Alert>("alerts", ["alert"], ALERT, ALERT_COLUMNS, "Alerts"))
    .addCommand(getSubcommand<Receiver>("receivers", ["receiver"], RECEIVER, RECEIVER_COLUMNS, "Receivers"));
}
