/**
 * `npm run demo`: the quick start. Brings up the local control plane (building its binaries
 * on the first run), turns examples/podinfo into a Git repository served over smart HTTP (as a
 * Git host serves it: the controller refuses local paths), runs `fjord controller`
 * out-of-cluster against it, creates a GitRepository and one Application per overlay (dev,
 * prod), waits until both are Ready, and keeps everything running until Ctrl-C, printing what
 * to try next.
 *
 *   npm run demo [-- --check]
 *
 * --check: after Ready, scales the prod Deployment by hand, waits for fjord to revert it,
 * and exits (0 on success); the test suite runs the quick start this way.
 */
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { cp, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import type { Application } from "../src/api/types.ts";
import { KubeClient } from "../src/kube/client.ts";
import { watchUntil } from "../src/kube/watch-until.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { ControlPlane } from "../testenv/control-plane.ts";
import { startControllerProcess } from "../test/support/controller-process.ts";
import { startGitServer } from "../test/support/git-server.ts";

const execFileAsync = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const say = (line = "") => process.stdout.write(`${line}\n`);
const { values: flags } = parseArgs({ options: { check: { type: "boolean", default: false } } });

const plane = await ControlPlane.start({ progress: (message) => say(`testenv: ${message}`) });
const tools = await ensureBinaries(["kubectl", "kustomize", "helm"], (message) => say(`testenv: ${message}`));
const env = { ...process.env, PATH: [...new Set(Object.values(tools).map((tool) => path.dirname(tool)))].join(path.delimiter) + path.delimiter + (process.env.PATH ?? "") };
const work = await mkdtemp(path.join(os.tmpdir(), "fjord-demo-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

// A Git repository holding the example, as a team would keep it: on a Git server (git's own
// smart HTTP backend on loopback), with a working copy to commit and push from.
const gitServer = await startGitServer();
await gitServer.createRepo("podinfo");
const repoUrl = gitServer.repoUrl("podinfo");
const repo = path.join(work, "podinfo");
await cp(path.join(root, "examples", "podinfo"), repo, { recursive: true });
const git = (...args: string[]) =>
  execFileAsync("git", args, { cwd: repo, env: { ...env, GIT_AUTHOR_NAME: "demo", GIT_AUTHOR_EMAIL: "demo@fjord.invalid", GIT_COMMITTER_NAME: "demo", GIT_COMMITTER_EMAIL: "demo@fjord.invalid" } });
await git("init", "-q", "-b", "main");
await git("add", "-A");
await git("commit", "-qm", "podinfo: base with dev and prod overlays");
await git("remote", "add", "origin", repoUrl);
await git("push", "-q", "-u", "origin", "main");

// The controller, out-of-cluster, as `fjord controller --kubeconfig` runs it.
const logFile = path.join(work, "controller.log");
const controllerProcess = await startControllerProcess({ kubeconfig: plane.kubeconfigPath, logFile, cacheDir: path.join(work, "cache"), env });
const controller = controllerProcess.child;
const shutdown = async () => {
  await controllerProcess.stop();
  await gitServer.close();
  await plane.stop();
};
say();
say(`$ fjord controller --kubeconfig ${plane.kubeconfigPath}      (log: ${logFile})`);

const client = KubeClient.load({ kubeconfig: plane.kubeconfigPath });
const api = "/apis/fjord.dev/v1alpha1/namespaces/fjord-system";
await client.request("POST", "/api/v1/namespaces", { body: { metadata: { name: "fjord-system" } } });
// The controller installs the CRDs when it starts; wait for them to be served.
for (let attempt = 0; ; attempt++) {
  const served = await client.request("GET", `${api}/gitrepositories`).then(
    () => true,
    () => false,
  );
  if (served) break;
  if (attempt > 120 || controller.exitCode !== null) {
    say(`the controller did not start; see ${logFile}`);
    await shutdown();
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
await client.request("POST", `${api}/gitrepositories`, {
  body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "podinfo" }, spec: { url: repoUrl, ref: { branch: "main" }, interval: "10s" } },
});
for (const overlay of ["dev", "prod"]) {
  await client.request("POST", `${api}/applications`, {
    body: {
      apiVersion: "fjord.dev/v1alpha1",
      kind: "Application",
      metadata: { name: `podinfo-${overlay}` },
      spec: { sourceRef: { kind: "GitRepository", name: "podinfo" }, path: `./overlays/${overlay}`, prune: true, wait: true, timeout: "2m", interval: "5m" },
    },
  });
}
say("created GitRepository fjord-system/podinfo and Applications podinfo-dev, podinfo-prod; waiting for Ready ...");

const isReady = (app: Application) => app.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true;
const started = Date.now();
await watchUntil(client, { path: `${api}/applications`, signal: AbortSignal.timeout(300_000) }, (apps) => [...apps.values()].length === 2 && [...apps.values()].every((app) => isReady(app as Application))).catch(
  async () => {
    say(`the Applications did not become Ready within 5 minutes; see ${logFile} and: kubectl --kubeconfig ${plane.kubeconfigPath} -n fjord-system get applications -o yaml`);
    await shutdown();
    process.exit(1);
  },
);
say(`both Ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
const kubectl = (...args: string[]) => execFileAsync(tools.kubectl, ["--kubeconfig", plane.kubeconfigPath, ...args]).then((result) => result.stdout);
say();
say("$ kubectl get applications,gitrepositories -n fjord-system");
say(await kubectl("get", "applications,gitrepositories", "-n", "fjord-system"));
say("$ kubectl get deployments -A -l app=podinfo");
say(await kubectl("get", "deployments", "-A", "-l", "app=podinfo"));

if (flags.check) {
  // Drift: someone scales prod by hand; fjord's watch sees it and puts Git's value back.
  const deployment = "/apis/apps/v1/namespaces/podinfo-prod/deployments/podinfo";
  const wanted = (await client.request<{ spec: { replicas: number } }>("GET", deployment)).spec.replicas;
  const scaled = Date.now();
  await kubectl("-n", "podinfo-prod", "scale", "deployment", "podinfo", "--replicas=1");
  await watchUntil(client, { path: "/apis/apps/v1/namespaces/podinfo-prod/deployments", fieldSelector: "metadata.name=podinfo", signal: AbortSignal.timeout(60_000) }, (objects) =>
    [...objects.values()].some((object) => (object as { spec?: { replicas?: number } }).spec?.replicas === wanted),
  );
  say(`drift check: kubectl scale --replicas=1 reverted to ${wanted} in ${Date.now() - scaled} ms`);
  client.close();
  await shutdown();
  say("demo check passed");
  process.exit(0);
}

say("Everything runs until Ctrl-C. In another terminal:");
say(`  export KUBECONFIG=${plane.kubeconfigPath}`);
say(`  cd ${repo} && sed -i 's/replicas: 3/replicas: 5/' overlays/prod/replicas.yaml && git commit -qam 'scale prod' && git push -q`);
say(`      # the working copy pushes to ${repoUrl}, the GitRepository's URL`);
say("      # within 10 s the GitRepository sees the commit and podinfo-prod applies it:");
say("  npm run fjord -- get apps -n fjord-system");
say(`  ${tools.kubectl} -n podinfo-prod scale deployment podinfo --replicas=1 && ${tools.kubectl} -n podinfo-prod get deployment podinfo -w`);
say("      # drift: fjord reverts it within about a second and records who did it:");
say("  npm run fjord -- events -n fjord-system");
say(`  ${tools.kubectl} -n fjord-system get application podinfo-prod -o jsonpath='{.status.history[0]}'`);
setInterval(() => {}, 1 << 30);
