import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { FIELD_MANAGER } from "../model/ownership.ts";
import type { GitAuth } from "../git/index.ts";
import { commitAndPush } from "../git/push.ts";
import { splitCredentials } from "../git/redact.ts";
import { remoteUrlProblem } from "../git/remote-url.ts";
import { installManifests, toYamlDocuments } from "../install/manifests.ts";
import { FJORD_VERSION, installOptions } from "../install/options.ts";
import { sourceSecret, syncManifests } from "../install/sync-manifests.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import type { KubeObject } from "../model/object.ts";
import { parseDuration } from "../util/duration.ts";
import { addInstallOptions, applyInstall, exportHeader } from "./install-command.ts";
import { addKubeOptions, CliFailure, kubeClient, runCli, type KubeFlags } from "./kube-options.ts";
import { createProgress, formatChangeSet } from "./output.ts";
import { addSourceOptions, authFromFlags, type SourceFlags } from "./source.ts";

type BootstrapFlags = SourceFlags &
  KubeFlags & {
    namespace: string;
    image: string;
    webhookSecret?: string;
    interval: string;
    timeout: string;
    export?: boolean;
    authorName: string;
    authorEmail: string;
  };

/** The files bootstrap keeps in the repository, relative to its root. */
export function bootstrapFiles(flags: { path: string; namespace: string }, install: readonly KubeObject[], sync: readonly KubeObject[]): Record<string, string> {
  const dir = path.posix.join(flags.path, flags.namespace);
  return {
    [`${dir}/install.yaml`]: toYamlDocuments(install, exportHeader(`fjord bootstrap --path ${flags.path}`)),
    [`${dir}/sync.yaml`]: toYamlDocuments(sync, exportHeader(`fjord bootstrap --path ${flags.path}`)),
  };
}

/** `clusters/prod/` -> `clusters/prod`; the repository root and paths leaving it are refused. */
function clusterPath(raw: string): string {
  const normalized = path.posix.normalize(raw.replace(/\\/g, "/")).replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  if (normalized === "." || normalized === "" || normalized.startsWith("../") || normalized === ".." || normalized.startsWith("/")) {
    throw new CliFailure(`--path must be a directory inside the repository for this cluster, e.g. clusters/prod (got "${raw}")`);
  }
  return normalized;
}

/**
 * The URL to commit (never with credentials in it) and the credentials an https URL carried. The
 * controller fetches it, so it must be one the controller may use: no local paths.
 */
function repositoryUrl(repo: string): { url: string; auth?: GitAuth } {
  const { url, credentials } = splitCredentials(repo);
  const refused = remoteUrlProblem(url);
  if (refused !== undefined) throw new CliFailure(`--repo ${refused} (the controller fetches it through a GitRepository)`);
  return { url, ...(credentials ? { auth: { kind: "basic", username: credentials.username, password: credentials.password } } : {}) };
}

/** Writes each file whose content differs; returns the ones it wrote, so an unchanged repository gets no commit. */
async function writeChanged(workdir: string, files: Record<string, string>): Promise<string[]> {
  const changed: string[] = [];
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(workdir, file);
    const current = await readFile(target, "utf8").catch(() => undefined);
    if (current === content) continue;
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
    changed.push(file);
  }
  return changed;
}

/** The namespace and the credentials Secret exist before the GitRepository is applied, so its first fetch can succeed. */
async function applySourceSecret(client: KubeClient, namespace: string, secret: KubeObject): Promise<void> {
  await client.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } } }).catch((error: unknown) => {
    if (!(error instanceof KubeApiError && error.conflict)) throw error;
  });
  // Its own field manager: the Secret is not in Git, so the Application's syncs must never own (or prune) it.
  await client.request("PATCH", `/api/v1/namespaces/${namespace}/secrets/${secret.metadata.name ?? ""}`, {
    query: { fieldManager: `${FIELD_MANAGER}-bootstrap`, force: true },
    body: secret,
    contentType: "application/apply-patch+yaml",
  });
}

/** The shared source options, as bootstrap means them: it writes to one branch at one path. */
function adaptSourceOptions(command: Command): void {
  const notForBootstrap = new Set(["--ref", "--tag", "--semver", "--commit", "--allow-remote-bases", "--helm-values", "--helm-release", "--decryption-key-file"]);
  for (const option of command.options) {
    if (notForBootstrap.has(option.long ?? "")) option.hideHelp();
    if (option.long === "--branch") option.default("main").description = "branch to commit to and to sync from";
    if (option.long === "--path") {
      option.default(undefined).makeOptionMandatory();
      option.description = "this cluster's directory in the repository, e.g. clusters/prod";
    }
  }
  // Commander stored the defaults when the options were added.
  command.setOptionValueWithSource("path", undefined, "default");
  command.setOptionValueWithSource("branch", "main", "default");
}

/** `fjord bootstrap`: commit the install and sync manifests to the repository, then apply them, so fjord manages itself. */
export function bootstrapCommand(): Command {
  const command = new Command("bootstrap").description(
    "commit fjord's install manifests and a GitRepository + Application for --path to the repository, then apply them so fjord manages itself (idempotent)",
  );
  addSourceOptions(command);
  adaptSourceOptions(command);
  addInstallOptions(command)
    .option("--interval <duration>", "how often the GitRepository looks for new commits", "1m")
    .option("--timeout <duration>", "how long to wait for the CRDs to be served", "5m")
    .option("--author-name <name>", "commit author name", "fjord")
    .option("--author-email <email>", "commit author email", "fjord@users.noreply.fjord.dev")
    .option("--export", "print the files that would be committed, change nothing");
  addKubeOptions(command);
  return command.action((flags: BootstrapFlags) =>
    runCli(async () => {
      if (flags.tag || flags.semver || flags.commit || flags.ref) throw new CliFailure("bootstrap commits to a branch: use --branch (default main), not --ref, --tag, --semver or --commit");
      const branch = flags.branch ?? "main";
      const dir = clusterPath(flags.path);
      const timeoutMs = parseDuration(flags.timeout);
      const repository = repositoryUrl(flags.repo);
      const url = repository.url;
      const auth = (await authFromFlags(flags)) ?? repository.auth;
      const name = flags.namespace;
      const install = installManifests(installOptions({ namespace: flags.namespace, image: flags.image, clusterAdmin: true, ...(flags.webhookSecret ? { webhookSecret: flags.webhookSecret } : {}) }));
      const sync = syncManifests({ namespace: flags.namespace, name, url, branch, path: dir, interval: flags.interval, ...(auth ? { secretName: name } : {}) });
      const files = bootstrapFiles({ path: dir, namespace: flags.namespace }, install, sync);
      if (flags.export) {
        for (const [file, content] of Object.entries(files)) process.stdout.write(`# ${file}\n${content}`);
        return 0;
      }

      const progress = createProgress(true);
      try {
        progress.update(`pushing ${Object.keys(files).join(", ")} to ${branch}`);
        const pushed = await commitAndPush({
          url,
          allowLocal: true,
          branch,
          ...(auth ? { auth } : {}),
          author: { name: flags.authorName, email: flags.authorEmail },
          message: `fjord bootstrap: ${dir}/${flags.namespace} (fjord ${FJORD_VERSION})`,
          edit: (workdir) => writeChanged(workdir, files),
          // A freshly created repository has no branch yet; bootstrap starts it, as flux bootstrap does.
          createBranch: true,
          timeoutMs: parseDuration(flags.gitTimeout),
          progress: (message) => progress.update(message),
        });
        progress.stop();
        const target = pushed.createdBranch ? `new branch ${branch} (it did not exist in ${url})` : branch;
        process.stderr.write(pushed.commit ? `committed ${pushed.changedFiles.join(", ")} as ${pushed.commit.slice(0, 12)} to ${target}\n` : `${dir}/${flags.namespace} is up to date in ${branch}; nothing to commit\n`);

        const client = kubeClient(flags);
        try {
          if (auth) await applySourceSecret(client, flags.namespace, sourceSecret(flags.namespace, name, auth));
          const result = await applyInstall(client, [...install, ...sync], { name, namespace: flags.namespace }, { inventory: "none", wait: false, timeoutMs, onProgress: (message) => progress.update(message) });
          progress.stop();
          process.stdout.write(`${formatChangeSet(result.changes)}\n`);
        } finally {
          client.close();
        }
        process.stderr.write(`fjord now manages ${dir} from ${branch}; follow it with: fjord get apps -n ${flags.namespace}\n`);
        return 0;
      } finally {
        progress.stop();
      }
    }),
  );
}
