import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { Option, type Command } from "commander";
import { checkout, type GitAuth, type GitRef, type Revision } from "../git/index.ts";
import { render, type RenderWarning } from "../render/render.ts";
import { loadAgeIdentitiesFromEnvironment, parseAgeIdentities } from "../secrets/sops/index.ts";
import type { RenderedObject } from "../model/object.ts";
import { parseDuration } from "../util/duration.ts";

const execFileAsync = promisify(execFile);

export interface SourceFlags {
  repo: string;
  path: string;
  ref?: string;
  branch?: string;
  tag?: string;
  semver?: string;
  commit?: string;
  gitUsername?: string;
  gitTokenFile?: string;
  sshKeyFile?: string;
  knownHostsFile?: string;
  gitTimeout: string;
  allowRemoteBases?: boolean;
  helmValues?: string[];
  helmRelease?: string;
  namespace?: string;
  decryptionKeyFile?: string;
}

export type GitCredentialFlags = Pick<SourceFlags, "gitUsername" | "gitTokenFile" | "sshKeyFile" | "knownHostsFile">;

/** HTTPS and SSH credential options, shared by every command that talks to a Git server. */
export function addGitCredentialOptions(command: Command): Command {
  return command
    .option("--git-username <name>", "HTTPS username (password or token from FJORD_GIT_PASSWORD / --git-token-file)")
    .option("--git-token-file <file>", "file holding an HTTPS access token (or set FJORD_GIT_TOKEN)")
    .option("--ssh-key-file <file>", "private key for ssh:// URLs")
    .option("--known-hosts-file <file>", "known_hosts for ssh:// URLs (required with --ssh-key-file)");
}

/** The options every command that reads manifests from Git shares. */
export function addSourceOptions(command: Command): Command {
  command
    .requiredOption("--repo <url|path>", "Git URL (https://, ssh://, git@host:repo, file://) or a local directory")
    .option("--path <dir>", "directory inside the repository to render", ".")
    .option("--ref <ref>", "branch or tag name, full ref (refs/...), or commit SHA")
    .option("--branch <name>", "branch to check out")
    .option("--tag <name>", "tag to check out")
    .option("--semver <range>", "highest tag matching a semver range, e.g. '>=1.2.0 <2.0.0'")
    .option("--commit <sha>", "exact commit to check out");
  return addGitCredentialOptions(command)
    .option("--git-timeout <duration>", "timeout for Git operations", "60s")
    .option("--allow-remote-bases", "allow Kustomize bases fetched from the network")
    .addOption(new Option("--helm-values <file...>", "Helm values files, relative to --path"))
    .option("--helm-release <name>", "Helm release name (default: the chart's name)")
    .option("--decryption-key-file <file>", "age identities for SOPS-encrypted files (default, like sops: SOPS_AGE_KEY_FILE, SOPS_AGE_KEY)");
}

function refFromFlags(flags: SourceFlags): GitRef | undefined {
  if (flags.commit) return { commit: flags.commit, ...(flags.branch ? { branch: flags.branch } : {}) };
  if (flags.semver) return { semver: flags.semver };
  if (flags.tag) return { tag: flags.tag };
  if (flags.branch) return { branch: flags.branch };
  if (!flags.ref) return undefined;
  if (/^[0-9a-f]{40}$/i.test(flags.ref)) return { commit: flags.ref };
  if (flags.ref.startsWith("refs/")) return { name: flags.ref };
  return { name: flags.ref };
}

export async function authFromFlags(flags: GitCredentialFlags): Promise<GitAuth | undefined> {
  if (flags.sshKeyFile) {
    if (!flags.knownHostsFile) throw new Error("--ssh-key-file needs --known-hosts-file: fjord never trusts an unknown host key");
    return { kind: "ssh", privateKey: await readFile(flags.sshKeyFile, "utf8"), knownHosts: await readFile(flags.knownHostsFile, "utf8") };
  }
  const token = flags.gitTokenFile ? (await readFile(flags.gitTokenFile, "utf8")).trim() : process.env.FJORD_GIT_TOKEN;
  if (token) return { kind: "token", token, ...(flags.gitUsername ? { username: flags.gitUsername } : {}) };
  if (flags.gitUsername && process.env.FJORD_GIT_PASSWORD) return { kind: "basic", username: flags.gitUsername, password: process.env.FJORD_GIT_PASSWORD };
  return undefined;
}

async function isDirectory(candidate: string): Promise<boolean> {
  return stat(candidate).then((info) => info.isDirectory(), () => false);
}

export interface OpenedSource {
  root: string;
  revision?: Revision;
  /** For a local directory: its HEAD commit, when it is a Git work tree. */
  localCommit?: string;
  dispose(): Promise<void>;
}

/**
 * A local directory without a ref is used as it is on disk (like `kubectl apply -f`);
 * anything else goes through the Git source, which records the exact commit.
 */
export async function openSource(flags: SourceFlags): Promise<OpenedSource> {
  const ref = refFromFlags(flags);
  const local = await isDirectory(flags.repo);
  if (local && !ref) {
    const root = path.resolve(flags.repo);
    const head = await execFileAsync("git", ["-C", root, "rev-parse", "HEAD"]).then((result) => result.stdout.trim(), () => undefined);
    return { root, ...(head ? { localCommit: head } : {}), dispose: async () => {} };
  }
  const url = local ? pathToFileURL(path.resolve(flags.repo)).href : flags.repo;
  const auth = await authFromFlags(flags);
  // The CLI reads with its user's own rights: local paths and file:// are theirs to use.
  const opened = await checkout({ url, allowLocal: true, ...(ref ? { ref } : {}), ...(auth ? { auth } : {}), timeoutMs: parseDuration(flags.gitTimeout) });
  return { root: opened.dir, revision: opened, dispose: () => opened.dispose() };
}

/** age identities from --decryption-key-file, else where sops looks for them. */
async function decryptionIdentities(flags: SourceFlags): Promise<string[]> {
  if (!flags.decryptionKeyFile) return (await loadAgeIdentitiesFromEnvironment(process.env)).identities;
  return parseAgeIdentities(await readFile(flags.decryptionKeyFile, "utf8"), flags.decryptionKeyFile);
}

export async function renderSource(source: OpenedSource, flags: SourceFlags, onWarning?: (warning: RenderWarning) => void): Promise<RenderedObject[]> {
  const identities = await decryptionIdentities(flags);
  return render({
    root: source.root,
    path: flags.path,
    ...(onWarning ? { onWarning } : {}),
    ...(identities.length > 0 ? { decryption: { identities } } : {}),
    ...(flags.allowRemoteBases ? { allowRemoteBases: true } : {}),
    helm: {
      ...(flags.helmRelease ? { releaseName: flags.helmRelease } : {}),
      ...(flags.helmValues ? { valuesFiles: flags.helmValues } : {}),
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
    },
  });
}

/** A short description of what was synced: `main@1a2b3c4d` or the local directory's HEAD. */
export function describeRevision(source: OpenedSource): string | undefined {
  if (source.revision) {
    const { ref, commit } = source.revision;
    // A commit asked for by SHA has no ref of its own.
    return ref === commit ? commit : `${ref.replace(/^refs\/(heads|tags)\//, "")}@${commit}`;
  }
  return source.localCommit ? `local@${source.localCommit}` : undefined;
}
