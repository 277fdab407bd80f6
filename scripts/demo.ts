/**
 * `npm run demo`: the quick start. Brings up the local control plane (building its binaries
 * on the first run), turns examples/podinfo into a Git repository, syncs its dev and prod
 * overlays with `fjord sync --wait`, shows the result, and keeps everything running until
 * Ctrl-C, printing what to try next.
 */
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { cp, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "../src/testenv/ensure-binaries.ts";
import { ControlPlane } from "../src/testenv/control-plane.ts";

const execFileAsync = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const say = (line = "") => process.stdout.write(`${line}\n`);

const plane = await ControlPlane.start({ progress: (message) => say(`testenv: ${message}`) });
const tools = await ensureBinaries(["kubectl", "kustomize", "helm"], (message) => say(`testenv: ${message}`));
const env = { ...process.env, PATH: [...new Set(Object.values(tools).map((tool) => path.dirname(tool)))].join(path.delimiter) + path.delimiter + (process.env.PATH ?? "") };

// A Git repository holding the example, as a team would keep it.
const repo = await mkdtemp(path.join(os.tmpdir(), "fjord-demo-repo-"));
process.on("exit", () => rmSync(repo, { recursive: true, force: true }));
await cp(path.join(root, "examples", "podinfo"), repo, { recursive: true });
const git = (...args: string[]) =>
  execFileAsync("git", args, { cwd: repo, env: { ...env, GIT_AUTHOR_NAME: "demo", GIT_AUTHOR_EMAIL: "demo@fjord.invalid", GIT_COMMITTER_NAME: "demo", GIT_COMMITTER_EMAIL: "demo@fjord.invalid" } });
await git("init", "-q", "-b", "main");
await git("add", "-A");
await git("commit", "-qm", "podinfo: base with dev and prod overlays");

const fjord = ["--import", "tsx", path.join(root, "src/cli/main.ts")];
for (const overlay of ["dev", "prod"]) {
  say();
  say(`$ fjord sync --repo file://${repo} --branch main --path overlays/${overlay} --prune --wait`);
  const result = await execFileAsync(process.execPath, [...fjord, "sync", "--repo", `file://${repo}`, "--branch", "main", "--path", `overlays/${overlay}`, "--prune", "--wait", "--kubeconfig", plane.kubeconfigPath], { cwd: root, env });
  process.stdout.write(result.stdout + result.stderr);
}
const { stdout } = await execFileAsync(tools.kubectl, ["--kubeconfig", plane.kubeconfigPath, "get", "deployments,pods", "-A", "-l", "app=podinfo", "-o", "wide"]);
say();
say("$ kubectl get deployments,pods -A -l app=podinfo");
say(stdout);
say("Everything runs until Ctrl-C. In another terminal:");
say(`  export KUBECONFIG=${plane.kubeconfigPath}`);
say(`  cd ${repo} && sed -i 's/replicas: 3/replicas: 5/' overlays/prod/replicas.yaml && git commit -qam 'scale prod'`);
say(`  npm run fjord -- diff --repo file://${repo} --branch main --path overlays/prod     # shows the change, exit code 1`);
say(`  npm run fjord -- sync --repo file://${repo} --branch main --path overlays/prod --wait`);
say(`  ${tools.kubectl} -n podinfo-prod scale deployment podinfo --replicas=1   # drift: the next sync takes it back`);
// Stay alive until a signal; ControlPlane's handlers stop everything and exit.
setInterval(() => {}, 1 << 30);
