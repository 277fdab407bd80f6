/**
 * `npm run demo`: the quick start. Brings up the local control plane (building its binaries
 * on the first run), shows the cluster, and keeps it running until Ctrl-C.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { locateAssets } from "../src/testenv/assets.ts";
import { ControlPlane } from "../src/testenv/control-plane.ts";

const execFileAsync = promisify(execFile);
const say = (line: string) => process.stdout.write(`${line}\n`);

const plane = await ControlPlane.start({ progress: (message) => say(`testenv: ${message}`) });
const kubectl = locateAssets(["kubectl"]).found.get("kubectl")?.path ?? "kubectl";
const { stdout } = await execFileAsync(kubectl, ["--kubeconfig", plane.kubeconfigPath, "get", "nodes", "-o", "wide"]);
say("");
say(`$ kubectl --kubeconfig ${plane.kubeconfigPath} get nodes -o wide`);
say(stdout);
say("The control plane is running. In another terminal:");
say(`  export KUBECONFIG=${plane.kubeconfigPath}`);
say(`  ${kubectl} create deployment web --image=nginx --replicas=3 && ${kubectl} get pods -w`);
say("Press Ctrl-C to stop it; every process and temporary file goes with it.");
// Stay alive until a signal; ControlPlane's handlers stop everything and exit.
setInterval(() => {}, 1 << 30);
