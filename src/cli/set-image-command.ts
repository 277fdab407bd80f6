import { stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { checkout, GitSourceError } from "../git/index.ts";
import { commitAndPush, GitPushError } from "../git/push.ts";
import { splitCredentials } from "../git/redact.ts";
import {
  findKustomization,
  listYamlFiles,
  parseImageSetting,
  readManifestFiles,
  setImages,
  unifiedDiff,
  writeManifestFiles,
  type ImageChange,
  type ImageSetting,
  type UpdateError,
} from "../image/update/index.ts";
import { parseDuration } from "../util/duration.ts";
import { addGitCredentialOptions, authFromFlags, type GitCredentialFlags } from "./source.ts";

/** Exit codes: 0 done (or nothing to change), 1 bad input or an edit that cannot be made, 5 Git (fetch, push, rejection). */
const EXIT_EDIT = 1;
const EXIT_GIT = 5;

interface SetImageFlags extends GitCredentialFlags {
  repo: string;
  branch: string;
  pushBranch?: string;
  path: string;
  image?: ImageSetting[];
  message?: string;
  authorName: string;
  authorEmail: string;
  gitTimeout: string;
  maxAttempts: string;
  dryRun?: boolean;
  workdir?: string;
}

/** The edit could not be made (no such image, malformed YAML): nothing is committed. */
class EditError extends Error {
  override readonly name = "EditError";
}

export function setImageCommand(): Command {
  const command = new Command("set-image")
    .description("set image tags in a Git repository (kustomization images: or container images), commit and push, retrying when other pushes race")
    .requiredOption("--repo <url|path>", "Git URL (https://, ssh://, git@host:repo, file://) or a local repository")
    .option("--branch <name>", "branch to update", "main")
    .option("--push-branch <name>", "push to this branch instead (created from --branch when missing)")
    .option("--path <dir>", "directory holding the kustomization or the manifests", ".")
    .option("--image <name=image>", "name=newName:newTag, name=newName@digest or name:newTag (repeatable)", collectImage)
    .option("--message <text>", "commit message (default: lists the changes)")
    .option("--author-name <name>", "commit author name", "fjord")
    .option("--author-email <email>", "commit author email", "fjord@users.noreply.fjord.dev");
  addGitCredentialOptions(command)
    .option("--git-timeout <duration>", "timeout for the whole fetch, commit and push, retries included", "120s")
    .option("--max-attempts <n>", "attempts when other pushes keep winning the race", "5")
    .option("--dry-run", "print the change as a unified diff; commit and push nothing")
    .option("--workdir <dir>", "an existing clone to work in instead of a fresh one (its tracked files must be clean)");
  return command.action(async (flags: SetImageFlags) => {
    process.exitCode = await runSetImage(flags).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`error: ${message}\n`);
      // A path outside the repository is bad input, not a Git failure.
      if ((error instanceof GitPushError || error instanceof GitSourceError) && error.code !== "path-escape") return EXIT_GIT;
      return EXIT_EDIT;
    });
  });
}

function collectImage(value: string, previous: ImageSetting[] | undefined): ImageSetting[] {
  try {
    return [...(previous ?? []), parseImageSetting(value)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

async function runSetImage(flags: SetImageFlags): Promise<number> {
  const images = flags.image ?? [];
  if (images.length === 0) throw new EditError("give at least one --image, e.g. --image myapp=registry.example/myapp:1.2.3");
  const maxAttempts = Number(flags.maxAttempts);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new EditError(`--max-attempts must be a positive integer, not "${flags.maxAttempts}"`);
  const url = await repositoryUrl(flags.repo);
  const shownUrl = splitCredentials(url).url;
  const auth = await authFromFlags(flags);
  const timeoutMs = parseDuration(flags.gitTimeout);

  let changes: ImageChange[] = [];
  const edit = async (root: string, write: boolean) => {
    const kustomization = await findKustomization(root, flags.path);
    const paths = kustomization ? [kustomization] : await listYamlFiles(root, flags.path);
    const before = await readManifestFiles(root, paths);
    const result = setImages(before, images, kustomization ? { kustomization } : {});
    if (result.errors.length > 0) throw new EditError(describeErrors(result.errors, flags.path));
    if (write) await writeManifestFiles(root, result.files);
    changes = result.changes;
    return { before, after: result.files };
  };

  if (flags.dryRun) {
    const { before, after } = await withDryRunTree(flags, url, auth, timeoutMs, (root) => edit(root, false));
    process.stdout.write(unifiedDiff(before, after));
    process.stderr.write(after.length === 0 ? "nothing to change\n" : `dry run: ${describeChanges(changes)}; nothing was committed or pushed\n`);
    return 0;
  }

  const result = await commitAndPush({
    url,
    allowLocal: true,
    branch: flags.branch,
    ...(flags.pushBranch ? { pushBranch: flags.pushBranch } : {}),
    ...(auth ? { auth } : {}),
    author: { name: flags.authorName, email: flags.authorEmail },
    message: () => flags.message ?? defaultMessage(flags.path, changes),
    edit: async (root) => (await edit(root, true)).after.map((file) => file.path),
    maxAttempts,
    timeoutMs,
    ...(flags.workdir ? { workdir: flags.workdir } : {}),
    progress: (message) => process.stderr.write(`${message}\n`),
  });
  const target = flags.pushBranch ?? flags.branch;
  if (result.commit === undefined) {
    process.stdout.write(`${flags.path}: images already up to date on ${target}; nothing to commit\n`);
    return 0;
  }
  for (const change of changes) process.stdout.write(`${describeChange(change)}\n`);
  const retries = result.attempts > 1 ? ` after ${result.attempts - 1} lost race${result.attempts > 2 ? "s" : ""}` : "";
  process.stdout.write(`pushed ${result.commit} to ${target} of ${shownUrl}${retries}\n`);
  return 0;
}

/** A local directory becomes a file:// URL, so that pushing to it goes through git like any remote. */
async function repositoryUrl(repo: string): Promise<string> {
  const local = await stat(repo).then((info) => info.isDirectory(), () => false);
  return local ? pathToFileURL(path.resolve(repo)).href : repo;
}

async function withDryRunTree<T>(
  flags: SetImageFlags,
  url: string,
  auth: Awaited<ReturnType<typeof authFromFlags>>,
  timeoutMs: number,
  body: (root: string) => Promise<T>,
): Promise<T> {
  if (flags.workdir) return body(path.resolve(flags.workdir));
  const tree = await checkout({ url, allowLocal: true, ref: { branch: flags.branch }, ...(auth ? { auth } : {}), timeoutMs });
  try {
    return await body(tree.dir);
  } finally {
    await tree.dispose();
  }
}

function describeErrors(errors: readonly UpdateError[], dir: string): string {
  const lines = errors.map((error) => `${error.file === "." ? dir : error.file}${error.line !== undefined ? `:${error.line}` : ""}: ${error.message}`);
  return `cannot set images under ${dir}; nothing was committed:\n  ${lines.join("\n  ")}`;
}

function describeChange(change: ImageChange): string {
  const what = change.field === "images" ? `added images: entry ${change.new}` : change.new === "" ? `${change.field} ${change.old} removed` : `${change.field} ${change.old || "(none)"} -> ${change.new}`;
  return `${change.file}:${change.line}: ${what}`;
}

function describeChanges(changes: readonly ImageChange[]): string {
  return `${changes.length} change${changes.length === 1 ? "" : "s"}`;
}

function defaultMessage(dir: string, changes: readonly ImageChange[]): string {
  const settings = [...new Set(changes.map((change) => change.policy))];
  const body = changes.map((change) => `- ${describeChange(change)}`).join("\n");
  return `Set ${settings.join(", ")} in ${dir}\n\n${body}`;
}
