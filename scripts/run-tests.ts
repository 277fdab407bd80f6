/**
 * The test command. Unit tests live beside the code (src/**\/x.test.ts, testenv/x.test.ts); cluster tests under
 * test/. One control plane is started for the whole run and shared with every cluster test
 * file through FJORD_TEST_KUBECONFIG; each test works in its own namespace.
 *
 *   node --import tsx scripts/run-tests.ts [--unit] [files...]
 */
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { ControlPlane } from "../testenv/control-plane.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { formatDuration } from "../testenv/go-build.ts";
import { COMPONENTS, PEER_TOOLS } from "../testenv/versions.ts";

const root = path.resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const explicit = args.filter((arg) => !arg.startsWith("--"));

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { recursive: true });
  return entries
    .filter((entry) => entry.endsWith(".test.ts") && !entry.includes("node_modules"))
    .map((entry) => path.join(dir, entry))
    .sort();
}

const files = explicit.length > 0 ? explicit : [...(await testFiles("src")), ...(await testFiles("testenv")), ...(unitOnly ? [] : await testFiles("test"))];
const needsCluster = files.some((file) => path.normalize(file).startsWith(`test${path.sep}`));

let plane: ControlPlane | undefined;
const env = { ...process.env };
if (needsCluster) {
  const progress = (message: string) => process.stderr.write(`testenv: ${message}\n`);
  // Every binary the cluster tests use, built here on a fresh machine (once, in order, with
  // progress) rather than inside a test file's hook, where the build (or waiting for another
  // file's build) would count against the test timeout.
  await ensureBinaries([...COMPONENTS, ...PEER_TOOLS], progress);
  const started = Date.now();
  plane = await ControlPlane.start({ progress });
  process.stderr.write(`testenv: shared control plane up in ${formatDuration(Date.now() - started)} (${plane.server})\n`);
  env.FJORD_TEST_KUBECONFIG = plane.kubeconfigPath;
}

const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=600000", ...files],
    { cwd: root, env, stdio: "inherit" },
  );
  child.on("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
});
await plane?.stop();
process.exit(code);
