import { Command } from "commander";
import { daemonStatus, serveControlPlane, startDaemon, stopDaemon } from "./daemon.ts";
import { ensureBinaries } from "./ensure-binaries.ts";
import { COMPONENTS, PEER_TOOLS } from "./versions.ts";

const say = (line: string) => process.stderr.write(`${line}\n`);

/** `npm run cluster -- up|down|status|build`: a local control plane for trying fjord and for its tests. */
export function clusterCommand(): Command {
  const cluster = new Command("cluster").description(
    "run a local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes)",
  );

  cluster
    .command("up")
    .description("start the control plane in the background; prints KUBECONFIG=<path> as the last line")
    .action(async () => {
      // Re-run this same program (with the same loader flags) as the detached server.
      const entry = { command: process.execPath, args: [...process.execArgv, process.argv[1] ?? "", "serve"] };
      const result = await startDaemon(entry, (line) => say(`  ${line}`));
      say(result.alreadyRunning ? `control plane already running at ${result.server}` : `control plane running at ${result.server}`);
      say(`try: kubectl --kubeconfig ${result.kubeconfig} get nodes`);
      process.stdout.write(`KUBECONFIG=${result.kubeconfig}\n`);
    });

  cluster
    .command("build")
    .description("locate the control-plane binaries (and with --peers the peer CLIs), building missing ones from Go modules")
    .option("--peers", "also the peer CLIs tests compare fjord with (kustomize, helm, sops, age, kubeseal, registry)")
    .action(async (options: { peers?: boolean }) => {
      const names = [...COMPONENTS, ...(options.peers ? PEER_TOOLS : [])];
      const paths = await ensureBinaries(names, (line) => say(line));
      for (const name of names) say(`${name.padEnd(24)} ${paths[name]}`);
    });

  cluster
    .command("down")
    .description("stop the background control plane and remove its files")
    .action(async () => {
      const outcome = await stopDaemon();
      say(outcome === "stopped" ? "control plane stopped" : "no control plane was running");
    });

  cluster
    .command("status")
    .description("show whether the background control plane is running and ready")
    .action(async () => {
      const status = await daemonStatus();
      if (!status.running) {
        say("control plane: not running");
        process.exitCode = 3;
        return;
      }
      const state = status.state;
      say(`control plane: ${status.ready ? "ready" : state?.status ?? "unknown"} (pid ${state?.pid})`);
      if (state?.server) say(`server: ${state.server}`);
      if (state?.nodes) say(`nodes: ${state.nodes.join(", ")}`);
      if (state?.logFile) say(`log: ${state.logFile}`);
      if (state?.kubeconfig) process.stdout.write(`KUBECONFIG=${state.kubeconfig}\n`);
      if (!status.ready) process.exitCode = 3;
    });

  cluster
    .command("serve", { hidden: true })
    .description("run the control plane in the foreground until SIGTERM (used by `up`)")
    .requiredOption("--log-file <path>", "where progress is logged")
    .action(async (options: { logFile: string }) => {
      await serveControlPlane(options.logFile);
    });

  return cluster;
}
