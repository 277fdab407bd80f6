import { Command, Option } from "commander";
import { stringify } from "yaml";
import type { HistoryEntry } from "../history/entry.ts";
import { auditLines, csvLine, parseTime, runningAt, AUDIT_COLUMNS, type AuditLine } from "../history/query.ts";
import { applicationOf, entriesOf, listHistories, loadHistory } from "../history/store.ts";
import { parseDuration } from "../util/duration.ts";
import { addNamespaceOption, APP, getObject, type NamespaceFlags } from "./app-resources.ts";
import { addKubeOptions, CliFailure, kubeClient, runCli, type KubeFlags } from "./kube-options.ts";
import { formatTable, oneLine } from "./table.ts";

type HistoryFlags = KubeFlags & NamespaceFlags & { output: "table" | "json" | "yaml"; at?: string };
type AuditFlags = KubeFlags & NamespaceFlags & { output: "json" | "csv"; since?: string; until?: string };

const shortRevision = (revision: string) => revision.replace(/@sha1:([0-9a-f]{12})[0-9a-f]+$/, "@$1").replace(/^sha1:([0-9a-f]{12})[0-9a-f]+$/, "$1");
const who = (entry: HistoryEntry) => (entry.action === "sync" ? entry.author.replace(/\s*<[^>]*>$/, "") : entry.actor);

const DRIFTERS_SHOWN = 3;

function changesOf(entry: HistoryEntry): string {
  const count = (action: string) => entry.changes.filter((change) => change.action === action).length;
  const parts = [["created", count("created")], ["configured", count("configured")], ["deleted", count("deleted")]].filter(([, n]) => n).map(([word, n]) => `${n} ${word}`);
  if (entry.changesOmitted) parts.push(`${entry.changesOmitted} more`);
  if (entry.driftReverts.length) {
    // Who drifted it belongs in the table an auditor reads first, not only in -o json.
    const people = [...new Set(entry.driftReverts.map((revert) => revert.changedBy))];
    const shown = people.slice(0, DRIFTERS_SHOWN).join(", ") + (people.length > DRIFTERS_SHOWN ? ", ..." : "");
    parts.push(`${entry.driftReverts.length} drift reverted (by ${shown})`);
  }
  return parts.join(", ") || "-";
}

export function historyTable(entries: readonly HistoryEntry[]): string {
  const rows = entries.map((entry) => [
    entry.finishedAt,
    entry.action,
    entry.result === "failed" && entry.reason ? `failed (${entry.reason})` : entry.result,
    shortRevision(entry.revision) || "-",
    oneLine(who(entry), 40) || "-",
    changesOf(entry),
    oneLine(entry.subject, 60),
  ]);
  return `${formatTable(["TIME", "ACTION", "RESULT", "REVISION", "BY", "CHANGES", "SUBJECT"], rows)}\n`;
}

function historyOutput(entries: HistoryEntry[], format: HistoryFlags["output"]): string {
  if (format === "json") return `${JSON.stringify(entries, null, 2)}\n`;
  if (format === "yaml") return stringify(entries, { lineWidth: 0 });
  return historyTable(entries);
}

/** `fjord history APP [--at TIME]`: what an Application ran and who asked for what, newest first. */
export function historyCommand(): Command {
  const command = new Command("history")
    .description("what an Application applied (revision, author, changes) and who reconciled, suspended, resumed or rolled it back, newest first")
    .argument("<app>", "Application name")
    .option("--at <time>", "only the revision that was running at this moment (RFC 3339, or a duration before now: 2h)");
  addNamespaceOption(command).addOption(new Option("-o, --output <format>", "output format").choices(["table", "json", "yaml"]).default("table"));
  addKubeOptions(command);
  return command.action((name: string, flags: HistoryFlags) =>
    runCli(async () => {
      const client = kubeClient(flags);
      try {
        await getObject(client, APP, flags.namespace, name);
        const entries = await loadHistory(client, flags.namespace, name);
        if (flags.at === undefined) {
          if (entries.length === 0 && flags.output === "table") process.stderr.write(`no history for Application ${flags.namespace}/${name} yet\n`);
          else process.stdout.write(historyOutput(entries, flags.output));
          return 0;
        }
        const at = parseTime(flags.at, new Date(), parseDuration);
        const running = runningAt(entries, at);
        if (!running) {
          const oldest = entries.at(-1)?.finishedAt;
          throw new CliFailure(`no revision of Application ${flags.namespace}/${name} is recorded as running at ${at.toISOString()}${oldest ? ` (its history starts at ${oldest})` : " (it has no history)"}`);
        }
        if (flags.output !== "table") {
          process.stdout.write(historyOutput([running], flags.output));
          return 0;
        }
        process.stdout.write(
          [
            `at ${at.toISOString()} Application ${flags.namespace}/${name} ran ${running.revision}`,
            `  since:   ${running.finishedAt}`,
            `  commit:  ${running.subject} (${running.author}${running.committer && running.committer !== running.author ? `, committed by ${running.committer}` : ""})`,
            `  result:  ${running.result}`,
            "",
          ].join("\n"),
        );
        return 0;
      } finally {
        client.close();
      }
    }),
  );
}

/** `fjord audit`: one trail across Applications, one self-contained line per entry, oldest first. */
export function auditCommand(): Command {
  const command = new Command("audit")
    .description("one audit trail across Applications (time, application, actor, action, revision, objects), oldest first")
    .option("--since <time>", "entries from this time (RFC 3339, or a duration before now: 24h)")
    .option("--until <time>", "entries up to this time");
  addNamespaceOption(command, true).addOption(new Option("-o, --output <format>", "json (one object per line) or csv").choices(["json", "csv"]).default("json"));
  addKubeOptions(command);
  return command.action((flags: AuditFlags) =>
    runCli(async () => {
      const client = kubeClient(flags);
      try {
        const now = new Date();
        const window = { ...(flags.since ? { since: parseTime(flags.since, now, parseDuration) } : {}), ...(flags.until ? { until: parseTime(flags.until, now, parseDuration) } : {}) };
        const lines: AuditLine[] = [];
        for (const configMap of await listHistories(client, flags.allNamespaces ? undefined : flags.namespace)) {
          try {
            lines.push(...auditLines(configMap.metadata.namespace, applicationOf(configMap), entriesOf(configMap), window));
          } catch (error) {
            // One unreadable history must not hide the others; it is named on stderr.
            process.stderr.write(`warning: ${error instanceof Error ? error.message : String(error)}\n`);
          }
        }
        lines.sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || `${a.namespace}/${a.application}`.localeCompare(`${b.namespace}/${b.application}`));
        if (flags.output === "csv") process.stdout.write(`${[AUDIT_COLUMNS.join(","), ...lines.map(csvLine)].join("\n")}\n`);
        else process.stdout.write(lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
        return 0;
      } finally {
        client.close();
      }
    }),
  );
}
