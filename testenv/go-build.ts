import { execFile, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { access, chmod, cp, mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { TestenvError } from "./errors.ts";
import { buildWorkDir, cachedBinaryDir } from "./paths.ts";
import {
  AGE_VERSION,
  ETCD_VERSION,
  HELM_VERSION,
  KUBERNETES_VERSION,
  KUBESEAL_VERSION,
  KUSTOMIZE_VERSION,
  GITEA_VERSION,
  KWOK_VERSION,
  REGISTRY_VERSION,
  SOPS_VERSION,
  type Binary,
} from "./versions.ts";
import { withDirectoryLock } from "../src/util/dir-lock.ts";

const execFileAsync = promisify(execFile);

export type Progress = (message: string) => void;

/** One Go wrapper module that builds one or more of the control-plane binaries. */
interface BuildGroup {
  name: string;
  module: string;
  version: string;
  /** Binary name -> Go package path. */
  packages: Partial<Record<Binary, string>>;
  ldflags: string;
  /** Extra go.mod lines (replace directives) computed from the upstream module. */
  extraDirectives?: (env: NodeJS.ProcessEnv) => Promise<string[]>;
  /** Extra environment for this module's go commands. */
  env?: Record<string, string>;
  /**
   * Build inside the downloaded module itself, as the main module, instead of from a wrapper:
   * for a module whose go.mod declares another path than the one it is published under (a
   * wrapper cannot require it). Its packages are paths relative to the module (`.`); `assets`
   * are directories of the module copied beside the binary into `<binary>-assets/` (files the
   * program reads at run time).
   */
  inModule?: { assets: string[] };
}

function kubernetesVersionFlags(): string {
  const [major, minor] = KUBERNETES_VERSION.split(".");
  const values: Record<string, string> = {
    gitVersion: `v${KUBERNETES_VERSION}`,
    gitMajor: major ?? "1",
    gitMinor: minor ?? "0",
    gitTreeState: "clean",
    gitCommit: "0000000000000000000000000000000000000000",
    buildDate: "1970-01-01T00:00:00Z",
  };
  // Without these the binaries report v0.0.0-master, which clients that parse /version reject.
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]
    .flatMap((pkg) => Object.entries(values).map(([key, value]) => `-X ${pkg}.${key}=${value}`))
    .join(" ");
}

/**
 * k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local
 * directories, which only works inside its own repository. A wrapper module must replace
 * each of them with the published v0.X.Y release instead; the list is read from the
 * upstream go.mod so it follows whatever the chosen release contains.
 */
async function kubernetesReplaces(env: NodeJS.ProcessEnv): Promise<string[]> {
  const { stdout } = await execFileAsync("go", ["mod", "download", "-json", `k8s.io/kubernetes@v${KUBERNETES_VERSION}`], {
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  const download = JSON.parse(stdout) as { GoMod?: string; Error?: string };
  if (!download.GoMod) throw new Error(download.Error ?? "go mod download returned no go.mod");
  const { stdout: editJson } = await execFileAsync("go", ["mod", "edit", "-json", download.GoMod], { env });
  const parsed = JSON.parse(editJson) as { Replace?: Array<{ Old: { Path: string }; New: { Path: string; Version?: string } }> };
  const stagingVersion = `v0.${KUBERNETES_VERSION.split(".").slice(1).join(".")}`;
  return (parsed.Replace ?? []).map(({ Old, New }) =>
    New.Version
      ? `replace ${Old.Path} => ${New.Path} ${New.Version}`
      : `replace ${Old.Path} => ${Old.Path} ${stagingVersion}`,
  );
}

const GROUPS: BuildGroup[] = [
  {
    name: "kubernetes",
    module: "k8s.io/kubernetes",
    version: `v${KUBERNETES_VERSION}`,
    packages: {
      "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
      "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
      "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
      kubectl: "k8s.io/kubernetes/cmd/kubectl",
    },
    ldflags: kubernetesVersionFlags(),
    extraDirectives: kubernetesReplaces,
  },
  {
    name: "etcd",
    module: "go.etcd.io/etcd/server/v3",
    version: `v${ETCD_VERSION}`,
    packages: { etcd: "go.etcd.io/etcd/server/v3" },
    ldflags: "",
  },
  {
    name: "kwok",
    module: "sigs.k8s.io/kwok",
    version: `v${KWOK_VERSION}`,
    packages: { kwok: "sigs.k8s.io/kwok/cmd/kwok" },
    ldflags: "",
  },
  {
    name: "kustomize",
    module: "sigs.k8s.io/kustomize/kustomize/v5",
    version: `v${KUSTOMIZE_VERSION}`,
    packages: { kustomize: "sigs.k8s.io/kustomize/kustomize/v5" },
    ldflags: `-X sigs.k8s.io/kustomize/api/provenance.version=v${KUSTOMIZE_VERSION}`,
  },
  {
    name: "helm",
    module: "helm.sh/helm/v3",
    version: `v${HELM_VERSION}`,
    packages: { helm: "helm.sh/helm/v3/cmd/helm" },
    ldflags: `-X helm.sh/helm/v3/internal/version.version=v${HELM_VERSION}`,
  },
  {
    name: "sops",
    module: "github.com/getsops/sops/v3",
    version: `v${SOPS_VERSION}`,
    packages: { sops: "github.com/getsops/sops/v3/cmd/sops" },
    ldflags: "",
  },
  {
    name: "age",
    module: "filippo.io/age",
    version: `v${AGE_VERSION}`,
    packages: { age: "filippo.io/age/cmd/age", "age-keygen": "filippo.io/age/cmd/age-keygen" },
    ldflags: `-X main.Version=v${AGE_VERSION}`,
  },
  {
    name: "kubeseal",
    // The repository is bitnami-labs/sealed-secrets, but its go.mod names the module github.com/bitnami/...
    module: "github.com/bitnami/sealed-secrets",
    version: `v${KUBESEAL_VERSION}`,
    packages: { kubeseal: "github.com/bitnami/sealed-secrets/cmd/kubeseal" },
    ldflags: `-X main.VERSION=v${KUBESEAL_VERSION}`,
    // The checksum database has no entry for the renamed module path; the proxy serves it.
    env: { GONOSUMDB: "github.com/bitnami/sealed-secrets" },
  },
  {
    name: "registry",
    module: "github.com/distribution/distribution/v3",
    version: `v${REGISTRY_VERSION}`,
    packages: { registry: "github.com/distribution/distribution/v3/cmd/registry" },
    ldflags: "",
  },
  {
    // A Git host with a commit status API, for the commit-status tests. Its go.mod names the
    // module gitea.dev, so it builds in its own module directory. Without the bindata tag (whose
    // embedded files need the web front end built with pnpm) it reads its templates, options
    // and public files from disk: they are copied beside the binary. SQLite is modernc's (no cgo).
    name: "gitea",
    module: "code.gitea.io/gitea",
    version: `v${GITEA_VERSION}`,
    packages: { gitea: "." },
    ldflags: `-X "main.Version=${GITEA_VERSION}"`,
    inModule: { assets: ["options", "templates", "public"] },
  },
];

/** Where a binary built with `inModule` finds the directories copied beside it. */
export function assetsDirOf(binaryPath: string): string {
  return `${binaryPath}-assets`;
}

/** The downloaded module's directory (read-only, in the module cache). */
async function downloadModule(group: BuildGroup, env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await execFileAsync("go", ["mod", "download", "-json", `${group.module}@${group.version}`], { env, cwd: buildWorkDir(), maxBuffer: 16 * 1024 * 1024 });
  const download = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!download.Dir) throw new TestenvError(`go mod download ${group.module}@${group.version}`, download.Error ?? "no module directory", "check the network and the module proxy; the version must exist there");
  return download.Dir;
}

/** Copies `dirs` of the module to `target`, writable (the module cache is read-only), so the cache can be deleted later. */
async function copyAssets(moduleDir: string, dirs: readonly string[], target: string): Promise<void> {
  await rm(target, { recursive: true, force: true });
  for (const dir of dirs) await cp(path.join(moduleDir, dir), path.join(target, dir), { recursive: true });
  const makeWritable = async (dir: string): Promise<void> => {
    await chmod(dir, 0o755);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await makeWritable(path.join(dir, entry.name));
      else if (entry.isFile()) await chmod(path.join(dir, entry.name), 0o644);
    }
  };
  await makeWritable(target);
}

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOWORK: "off", CGO_ENABLED: "0", GOFLAGS: "-buildvcs=false" };
}

async function requireGo(env: NodeJS.ProcessEnv, missing: readonly Binary[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync("go", ["version"], { env });
    return stdout.trim();
  } catch {
    throw new TestenvError(
      "go toolchain",
      `not found on PATH, and these binaries are missing: ${missing.join(", ")}`,
      "install Go 1.24 or newer (https://go.dev/dl/), or point KUBEBUILDER_ASSETS at a directory holding them " +
        "(or set TEST_ASSET_<NAME> for each, e.g. TEST_ASSET_KUBE_APISERVER)",
    );
  }
}

/** Runs a go command with output into the build log, printing a heartbeat so a long build never looks hung. */
async function runGo(args: string[], cwd: string, env: NodeJS.ProcessEnv, logFile: string, progress: Progress, label: string): Promise<void> {
  const log = createWriteStream(logFile, { flags: "a" });
  log.write(`\n$ go ${args.join(" ")}\n`);
  const started = Date.now();
  const heartbeat = setInterval(() => progress(`  still ${label} (${formatDuration(Date.now() - started)})`), 30_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn("go", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
      child.on("error", reject);
      child.on("close", resolve);
    });
    if (code !== 0) {
      const tail = (await readFile(logFile, "utf8")).trimEnd().split("\n").slice(-15).join("\n");
      throw new TestenvError(`go build (${label})`, `go ${args[0]} exited with code ${code}:\n${tail}`, "read the build log; a network or disk problem usually shows there. Delete the cache directory to start over.", logFile);
    }
  } finally {
    clearInterval(heartbeat);
    await new Promise((resolve) => log.end(resolve));
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

/** The file name `go build -o dir/` gives a package: its last path element, skipping a /vN major-version suffix. */
export function goBinaryName(pkg: string): string {
  const parts = pkg.split("/");
  const last = parts.at(-1) ?? pkg;
  return /^v\d+$/.test(last) && parts.length > 1 ? (parts.at(-2) ?? last) : last;
}

async function buildGroup(group: BuildGroup, wanted: Binary[], env: NodeJS.ProcessEnv, progress: Progress): Promise<void> {
  const workDir = path.join(buildWorkDir(), `${group.name}-${group.version}`);
  const staging = path.join(buildWorkDir(), `.partial-${process.pid}-${group.name}`);
  const logFile = path.join(workDir, "build.log");
  await mkdir(workDir, { recursive: true });
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await writeFile(logFile, "");

  const started = Date.now();
  progress(`building ${wanted.join(", ")} from ${group.module}@${group.version} (log: ${logFile})`);
  if (group.inModule) {
    const moduleDir = await downloadModule(group, env);
    for (const binary of wanted) {
      const pkg = group.packages[binary];
      if (!pkg) continue;
      await runGo(["build", "-trimpath", "-ldflags", `-s -w ${group.ldflags}`.trim(), "-o", path.join(staging, binary), pkg], moduleDir, env, logFile, progress, `building ${group.name}`);
      await copyAssets(moduleDir, group.inModule.assets, assetsDirOf(path.join(staging, binary)));
      const binDir = cachedBinaryDir(binary);
      await mkdir(binDir, { recursive: true });
      // Assets first: the binary's presence is what says the build is complete.
      await rm(assetsDirOf(path.join(binDir, binary)), { recursive: true, force: true });
      await rename(assetsDirOf(path.join(staging, binary)), assetsDirOf(path.join(binDir, binary)));
      await rename(path.join(staging, binary), path.join(binDir, binary));
    }
    await rm(staging, { recursive: true, force: true });
    progress(`built ${wanted.join(", ")} in ${formatDuration(Date.now() - started)}`);
    return;
  }
  const directives = group.extraDirectives ? await group.extraDirectives(env) : [];
  const tools = Object.values(group.packages).map((pkg) => `tool ${pkg}`);
  const goMod = [`module fjord.dev/testenv/${group.name}`, "", "go 1.24", "", `require ${group.module} ${group.version}`, "", ...directives, "", ...tools, ""].join("\n");
  await writeFile(path.join(workDir, "go.mod"), goMod);
  await runGo(["mod", "tidy"], workDir, env, logFile, progress, `resolving ${group.name} modules`);

  const packages = wanted.map((component) => group.packages[component]).filter((pkg): pkg is string => pkg !== undefined);
  const buildArgs = ["build", "-trimpath", "-ldflags", `-s -w ${group.ldflags}`.trim(), "-o", `${staging}/`, ...packages];
  await runGo(buildArgs, workDir, env, logFile, progress, `building ${group.name}`);

  for (const component of wanted) {
    const pkg = group.packages[component];
    if (!pkg) continue;
    const binDir = cachedBinaryDir(component);
    await mkdir(binDir, { recursive: true });
    await rename(path.join(staging, goBinaryName(pkg)), path.join(binDir, component));
  }
  await rm(staging, { recursive: true, force: true });
  progress(`built ${wanted.join(", ")} in ${formatDuration(Date.now() - started)}`);
}

/**
 * Builds the given missing binaries into the versioned cache. Holds a lock so two test
 * runs starting at once build only once.
 */
export async function buildBinaries(missing: readonly Binary[], progress: Progress): Promise<void> {
  if (missing.length === 0) return;
  const env = goEnv();
  const goVersion = await requireGo(env, missing);
  await mkdir(buildWorkDir(), { recursive: true });
  await withDirectoryLock(path.join(buildWorkDir(), ".build.lock"), progress, async () => {
    const started = Date.now();
    progress(`binaries missing (${missing.join(", ")}); building them from Go modules with ${goVersion}`);
    progress("a cold build of the control plane takes about 10 minutes on two cores, the Gitea test peer about 15 more; later runs reuse the cache");
    for (const group of GROUPS) {
      const wanted = missing.filter((binary) => binary in group.packages);
      // Another process may have built them while we waited for the lock.
      const stillMissing: Binary[] = [];
      for (const binary of wanted) {
        if (!(await exists(path.join(cachedBinaryDir(binary), binary)))) stillMissing.push(binary);
      }
      if (stillMissing.length > 0) await buildGroup(group, stillMissing, { ...env, ...group.env }, progress);
    }
    progress(`binaries ready in ${formatDuration(Date.now() - started)}`);
  });
}
