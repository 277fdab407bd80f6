import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { confinedPath } from "../git/confined-path.ts";
import { listYamlFiles, migrateFluxV1, readManifestFiles, unifiedDiff, writeManifestFiles, type ManifestFile } from "../image/update/index.ts";
import { parseDuration } from "../util/duration.ts";

interface FluxV1Flags {
  namespace?: string;
  interval: string;
  outputDir: string;
  dryRun?: boolean;
}

export function migrateCommand(): Command {
  const migrate = new Command("migrate").description("convert configuration written for other tools to fjord's");
  migrate.addCommand(
    new Command("flux-v1")
      .description("turn Flux v1 image automation annotations into $imagepolicy markers plus ImageRepository and ImagePolicy files")
      .argument("<dir>", "directory of manifests to convert (searched recursively)")
      .option("-n, --namespace <ns>", "namespace of the generated ImageRepositories and ImagePolicies (default: each workload's own)")
      .option("--interval <duration>", "how often the generated ImageRepositories scan the registry", "5m")
      .option("--output-dir <dir>", "where the generated files go, relative to <dir>", "image-automation")
      .option("--dry-run", "print the changes as a unified diff; write nothing")
      .action(async (dir: string, flags: FluxV1Flags) => {
        try {
          process.exitCode = await runFluxV1(dir, flags);
        } catch (error) {
          process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exitCode = 1;
        }
      }),
  );
  return migrate;
}

async function runFluxV1(dir: string, flags: FluxV1Flags): Promise<number> {
  parseDuration(flags.interval);
  const root = path.resolve(dir);
  if (!(await stat(root).then((info) => info.isDirectory(), () => false))) throw new Error(`${dir} is not a directory`);
  const outputDir = path.posix.normalize(flags.outputDir.replace(/\\/g, "/")).replace(/^\.\/?|\/$/g, "");
  await confinedPath(root, outputDir || ".");

  const files = await readManifestFiles(root, await listYamlFiles(root, "."));
  const result = migrateFluxV1(files, { ...(flags.namespace ? { namespace: flags.namespace } : {}), interval: flags.interval, outputDir });
  if (result.errors.length > 0) {
    const lines = result.errors.map((error) => `${error.file}${error.line !== undefined ? `:${error.line}` : ""}: ${error.message}`);
    throw new Error(`cannot convert ${dir}; nothing was written:\n  ${lines.join("\n  ")}`);
  }
  if (result.migrated.length === 0) {
    process.stdout.write(`no workload in ${dir} is automated the Flux v1 way (fluxcd.io/automated or flux.weave.works/automated: "true")\n`);
    for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
    return 0;
  }
  const existing = await existingFiles(root, result.created);
  const clashes = result.created.filter((file) => existing.has(file.path) && existing.get(file.path) !== file.text);
  if (clashes.length > 0) throw new Error(`would overwrite ${clashes.map((file) => file.path).join(", ")} in ${dir}; move them away or choose --output-dir`);

  const fresh = result.created.filter((file) => !existing.has(file.path));
  if (flags.dryRun) {
    process.stdout.write(unifiedDiff(files, [...result.files, ...fresh]));
  } else {
    await writeManifestFiles(root, result.files);
    for (const file of fresh) {
      const target = await confinedPath(root, file.path);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.text, { flag: "wx" });
    }
  }
  for (const entry of result.migrated) process.stdout.write(`${entry.file}:${entry.line}: ${entry.workload} container "${entry.container}" (${entry.filter}) -> ImagePolicy ${entry.policy}\n`);
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  const summary = `${result.migrated.length} container${result.migrated.length === 1 ? "" : "s"} in ${result.files.length} file${result.files.length === 1 ? "" : "s"}; ${fresh.length} new file${fresh.length === 1 ? "" : "s"} under ${outputDir || "."}`;
  process.stdout.write(flags.dryRun ? `dry run: would convert ${summary}; nothing was written\n` : `converted ${summary}\n`);
  return 0;
}

async function existingFiles(root: string, files: readonly ManifestFile[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const file of files) {
    const text = await readFile(await confinedPath(root, file.path), "utf8").catch(() => undefined);
    if (text !== undefined) found.set(file.path, text);
  }
  return found;
}
