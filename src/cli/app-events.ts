import { Command } from "commander";
import { APPLICATION_KIND, GIT_REPOSITORY_KIND } from "../api/types.ts";
import { EVENT_COMPONENT } from "../controller/events.ts";
import { watchUntil } from "../kube/watch-until.ts";
import type { KubeObject } from "../model/object.ts";
import { addNamespaceOption, type NamespaceFlags } from "./app-resources.ts";
import { addKubeOptions, CliFailure, kubeClient, runCli, type KubeFlags } from "./kube-options.ts";
import { columnWidths, formatAge, formatRow, oneLine } from "./table.ts";

type EventsFlags = KubeFlags & NamespaceFlags & { for?: string; watch?: boolean };

/** core/v1 Event, the fields `fjord events` shows. */
export interface CoreEvent extends KubeObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { lastObservedTime?: string; count?: number };
  source?: { component?: string };
  reportingComponent?: string;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
}

const KIND_WORDS: Record<string, string> = {
  app: APPLICATION_KIND,
  apps: APPLICATION_KIND,
  application: APPLICATION_KIND,
  applications: APPLICATION_KIND,
  source: GIT_REPOSITORY_KIND,
  sources: GIT_REPOSITORY_KIND,
  gitrepository: GIT_REPOSITORY_KIND,
  gitrepositories: GIT_REPOSITORY_KIND,
};

/** `Application/web`, `app/web` or `Deployment/web` -> the kind (matched case-insensitively) and name. */
export function parseFor(value: string): { kind: string; name: string } {
  const [word = "", name = "", ...rest] = value.split("/");
  if (!word || !name || rest.length > 0) throw new CliFailure(`--for takes Kind/name (e.g. Application/web), not "${value}"`);
  return { kind: KIND_WORDS[word.toLowerCase()] ?? word, name };
}

export function lastSeen(event: CoreEvent): string {
  return event.lastTimestamp ?? event.series?.lastObservedTime ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp ?? "";
}

export function isFjordEvent(event: CoreEvent): boolean {
  return event.source?.component === EVENT_COMPONENT || event.reportingComponent === EVENT_COMPONENT;
}

export function sortEvents(events: Iterable<CoreEvent>): CoreEvent[] {
  return [...events].sort((a, b) => Date.parse(lastSeen(a) || "1970-01-01T00:00:00Z") - Date.parse(lastSeen(b) || "1970-01-01T00:00:00Z"));
}

function row(event: CoreEvent, allNamespaces: boolean, now: number): string[] {
  const count = event.count ?? event.series?.count ?? 1;
  const involved = event.involvedObject ?? {};
  return [
    ...(allNamespaces ? [event.metadata.namespace ?? ""] : []),
    `${formatAge(lastSeen(event), now)}${count > 1 ? ` (x${count})` : ""}`,
    event.type ?? "",
    event.reason ?? "",
    `${involved.kind ?? ""}/${involved.name ?? ""}`,
    oneLine(event.message, 200),
  ];
}

/** `fjord events`: what the controller did and saw, from the Kubernetes Events it wrote. */
export function eventsCommand(): Command {
  const command = new Command("events").description("list the Events the fjord controller wrote (syncs, failures, drift), oldest first");
  addNamespaceOption(command, true)
    .option("--for <kind/name>", "only Events about this object, e.g. Application/web or Deployment/web")
    .option("-w, --watch", "keep printing new Events until interrupted");
  addKubeOptions(command);
  return command.action((flags: EventsFlags) =>
    runCli(async () => {
      const only = flags.for ? parseFor(flags.for) : undefined;
      const allNamespaces = flags.allNamespaces === true;
      const path = allNamespaces ? "/api/v1/events" : `/api/v1/namespaces/${encodeURIComponent(flags.namespace)}/events`;
      // `source` selects on source.component; the name narrows further server-side, the kind is matched here.
      const fieldSelector = [`source=${EVENT_COMPONENT}`, ...(only ? [`involvedObject.name=${only.name}`] : [])].join(",");
      const matches = (event: CoreEvent) => isFjordEvent(event) && (!only || (event.involvedObject?.kind?.toLowerCase() === only.kind.toLowerCase() && event.involvedObject.name === only.name));
      const headers = [...(allNamespaces ? ["NAMESPACE"] : []), "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"];
      const client = kubeClient(flags);
      const stop = new AbortController();
      const interrupt = () => stop.abort();
      process.once("SIGINT", interrupt);
      // Watching prints each Event version once; after a re-list only what is new.
      const printed = new Map<string, string>();
      let widths: number[] | undefined;
      let first = true;
      try {
        await watchUntil(client, { path, fieldSelector, signal: stop.signal }, (objects) => {
          const now = Date.now();
          const fresh = sortEvents((objects.values() as Iterable<CoreEvent>)).filter((event) => matches(event) && printed.get(event.metadata.uid ?? "") !== event.metadata.resourceVersion);
          for (const event of fresh) printed.set(event.metadata.uid ?? "", event.metadata.resourceVersion ?? "");
          const rows = fresh.map((event) => row(event, allNamespaces, now));
          if (!widths) {
            if (rows.length === 0 && first) process.stderr.write(`no fjord events${allNamespaces ? "" : ` in namespace ${flags.namespace}`}${only ? ` for ${only.kind}/${only.name}` : ""}\n`);
            else if (rows.length > 0) {
              // Room for wider later rows, so a watch stays roughly aligned.
              widths = columnWidths(headers, rows).map((width, column) => (flags.watch && column === headers.length - 2 ? Math.max(width, 30) : width));
              process.stdout.write(`${formatRow(headers, widths)}\n`);
            }
          }
          if (widths) for (const cells of rows) process.stdout.write(`${formatRow(cells, widths)}\n`);
          first = false;
          return flags.watch !== true;
        });
      } catch (error) {
        if (!stop.signal.aborted) throw error;
      } finally {
        process.off("SIGINT", interrupt);
        client.close();
      }
      return 0;
    }),
  );
}
