import path from "node:path";
import { Command, Option } from "commander";
import { stringify } from "yaml";
import { ApplyEngine } from "../apply/engine.ts";
import { EXIT_CODES, SyncError } from "../apply/errors.ts";
import { objectDiff } from "../diff/object-diff.ts";
import { loadInventory } from "../inventory/configmap-store.ts";
import { staleEntries } from "../inventory/inventory.ts";
import { KubeClient } from "../kube/client.ts";
import { Discovery, resourcePath } from "../kube/discovery.ts";
import { isNotFound } from "../kube/errors.ts";
import { describeRef, type KubeObject } from "../model/object.ts";
import type { RenderWarning } from "../render/render.ts";
import { syncObjects } from "../sync/sync.ts";
import { parseDuration } from "../util/duration.ts";
import { createProgress, formatChangeSet, formatWarning, paint, summarize, useColor, type OutputFormat } from "./output.ts";
import { addSourceOptions, describeRevision, openSource, renderSource, type SourceFlags } from "./source.ts";

interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  name?: string;
  output: OutputFormat;
}

function addClusterOptions(command: Command): Command {
  return command
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context")
    .option("-n, --namespace <ns>", "namespace for objects that name none, and where the inventory is kept", "default")
    .option("--name <name>", "name of this sync (owner labels and inventory); default: derived from --path")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"));
}

/** `overlays/prod` -> `overlays-prod`: a valid label value and ConfigMap name suffix. */
export function defaultSyncName(repo: string, dir: string): string {
  const fromPath = path.posix.normalize(dir.replace(/\\/g, "/")).replace(/^\.\/?|\/$/g, "");
  const base = fromPath || path.basename(repo.replace(/\.git$/, "").replace(/\/+$/, ""));
  const slug = base.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
  return slug || "root";
}

function clientFor(flags: ClusterFlags): KubeClient {
  return KubeClient.load({ ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) });
}

/** Runs a command body, mapping failures to the documented exit codes and a readable message. */
async function run(output: OutputFormat, body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (error) {
    const failure = error instanceof SyncError ? error.failure : "error";
    const message = error instanceof Error ? error.message : String(error);
    if (output === "json") process.stdout.write(`${JSON.stringify({ error: { failure, message } }, null, 2)}\n`);
    else process.stderr.write(`${paint("red", "error:", useColor(process.stderr))} ${message}\n`);
    process.exitCode = EXIT_CODES[failure] ?? EXIT_CODES.error;
  }
}

/** Render warnings go to stderr, so stdout stays the manifests, the diff or the JSON report. */
function printWarning(warning: RenderWarning): void {
  process.stderr.write(`${formatWarning(warning)}\n`);
}

function syncCommand(): Command {
  const command = new Command("sync").description("apply one path of a Git repository to the cluster (server-side apply, validated first)");
  addSourceOptions(command);
  addClusterOptions(command)
    .option("--prune", "delete objects this sync applied before that are no longer in Git")
    .option("--wait", "wait until every object is ready")
    .option("--timeout <duration>", "how long --wait waits", "5m")
    .option("--dry-run", "validate against the server and show what would change, changing nothing")
    .option("--force", "recreate objects whose immutable fields changed")
    .option("--allow-empty", "sync even when the path renders no objects and the inventory holds some (with --prune: delete them all)")
    .option("--concurrency <n>", "parallel API requests", "16")
    .option("-v, --verbose", "also list unchanged objects");
  return command.action(async (flags: SourceFlags & ClusterFlags & { prune?: boolean; wait?: boolean; timeout: string; dryRun?: boolean; force?: boolean; allowEmpty?: boolean; concurrency: string; verbose?: boolean }) =>
    run(flags.output, async () => {
      const progress = createProgress(flags.output === "text");
      const started = Date.now();
      const source = await (async () => {
        progress.update(`fetching ${flags.repo}`);
        return openSource(flags);
      })().catch((error: unknown) => {
        progress.stop();
        throw SyncError.wrap("source", error);
      });
      try {
        progress.update(`rendering ${flags.path}`);
        const objects = await renderSource(source, flags, (warning) => progress.note(formatWarning(warning))).catch((error: unknown) => {
          throw SyncError.wrap("render", error);
        });
        const client = clientFor(flags);
        const revision = describeRevision(source);
        const result = await syncObjects({
          client,
          objects,
          owner: { name: flags.name ?? defaultSyncName(flags.repo, flags.path), namespace: flags.namespace },
          defaultNamespace: flags.namespace,
          ...(revision ? { revision } : {}),
          prune: flags.prune === true,
          wait: flags.wait === true,
          timeoutMs: parseDuration(flags.timeout),
          dryRun: flags.dryRun === true,
          force: flags.force === true,
          allowEmpty: flags.allowEmpty === true,
          path: flags.path,
          concurrency: Number(flags.concurrency),
          onProgress: (message) => progress.update(message),
        }).finally(() => {
          progress.stop();
          client.close();
        });
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        if (flags.output === "json") {
          process.stdout.write(`${JSON.stringify({ revision, dryRun: flags.dryRun === true, changes: result.changes, summary: summarize(result.changes), seconds: Number(seconds), requests: client.counts }, null, 2)}\n`);
        } else {
          process.stdout.write(`${formatChangeSet(result.changes, { verbose: flags.verbose === true })}${flags.dryRun ? " (dry run)" : ""}\n`);
          process.stderr.write(`${revision ? `synced ${revision} ` : ""}in ${seconds}s\n`);
        }
        return EXIT_CODES.ok;
      } finally {
        await source.dispose();
      }
    }),
  );
}

function diffCommand(): Command {
  const command = new Command("diff").description("show how the cluster differs from Git (Secret values masked); exit code 1 when it does");
  addSourceOptions(command);
  addClusterOptions(command).option("--prune", "also show objects that --prune would delete");
  return command.action(async (flags: SourceFlags & ClusterFlags & { prune?: boolean }) =>
    run(flags.output, async () => {
      const source = await openSource(flags).catch((error: unknown) => {
        throw SyncError.wrap("source", error);
      });
      try {
        const objects = await renderSource(source, flags, printWarning).catch((error: unknown) => {
          throw SyncError.wrap("render", error);
        });
        const client = clientFor(flags);
        try {
          const discovery = new Discovery(client);
          const owner = { name: flags.name ?? defaultSyncName(flags.repo, flags.path), namespace: flags.namespace };
          const stored = await loadInventory(client, owner);
          const plan = await new ApplyEngine(client, discovery).diff({ objects, owner, defaultNamespace: flags.namespace, previous: stored.inventory }, { everyObject: true });
          const diffs: Array<{ object: string; action: string; diff: string }> = [];
          for (const state of plan.states) {
            if (state.action === "unchanged") continue;
            const name = describeRef(state.prepared.ref);
            diffs.push({ object: name, action: state.action, diff: objectDiff(name, state.live, state.result ?? state.prepared.object) });
          }
          if (flags.prune) {
            for (const entry of staleEntries(stored.inventory, plan.inventory)) {
              const mapping = await discovery.find(entry.group, entry.version, entry.kind);
              if (!mapping) continue;
              const live = await client.request<KubeObject>("GET", resourcePath(mapping, entry.namespace || undefined, entry.name)).catch((error: unknown) => {
                if (isNotFound(error)) return undefined;
                throw error;
              });
              if (live) diffs.push({ object: describeRef(entry), action: "deleted", diff: objectDiff(describeRef(entry), live, undefined) });
            }
          }
          if (flags.output === "json") process.stdout.write(`${JSON.stringify({ differences: diffs }, null, 2)}\n`);
          else {
            const color = useColor();
            for (const item of diffs) {
              process.stdout.write(`${paint("bold", `${item.object} (${item.action})`, color)}\n`);
              process.stdout.write(`${colorizeDiff(item.diff, color)}\n`);
            }
            process.stderr.write(diffs.length ? `${diffs.length} object(s) differ\n` : "no differences\n");
          }
          return diffs.length > 0 ? 1 : 0;
        } finally {
          client.close();
        }
      } finally {
        await source.dispose();
      }
    }),
  );
}

function colorizeDiff(diff: string, color: boolean): string {
  if (!color) return diff;
  return diff
    .split("\n")
    .map((line) => (line.startsWith("+") && !line.startsWith("+++") ? paint("green", line) : line.startsWith("-") && !line.startsWith("---") ? paint("red", line) : line.startsWith("@@") ? paint("cyan", line) : line))
    .join("\n");
}

function buildCommand(): Command {
  const command = new Command("build").description("print the rendered manifests of one path of a repository, as YAML");
  addSourceOptions(command);
  command.addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"));
  return command.action(async (flags: SourceFlags & { output: "yaml" | "json" }) =>
    run(flags.output === "json" ? "json" : "text", async () => {
      const source = await openSource(flags).catch((error: unknown) => {
        throw SyncError.wrap("source", error);
      });
      try {
        const objects = await renderSource(source, flags, printWarning).catch((error: unknown) => {
          throw SyncError.wrap("render", error);
        });
        if (flags.output === "json") process.stdout.write(`${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects.map((item) => item.object) }, null, 2)}\n`);
        else process.stdout.write(objects.map((item) => `# Source: ${item.source.file}\n${stringify(item.object, { lineWidth: 0 })}`).join("---\n"));
        return EXIT_CODES.ok;
      } finally {
        await source.dispose();
      }
    }),
  );
}

export function syncCommands(): Command[] {
  return [syncCommand(), diffCommand(), buildCommand()];
}
