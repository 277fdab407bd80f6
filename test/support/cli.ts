import { execFile } from "node:child_process";
import path from "node:path";
import { ensureBinaries } from "../../testenv/ensure-binaries.ts";

const root = path.resolve(import.meta.dirname, "..", "..");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let toolPath: Promise<string> | undefined;

/** PATH with the peer CLIs (kustomize, helm, kubectl) built for tests in front. */
export function peerToolPath(): Promise<string> {
  toolPath ??= ensureBinaries(["kustomize", "helm", "kubectl"], () => {}).then((bins) =>
    [...new Set(Object.values(bins).map((bin) => path.dirname(bin)))].concat(process.env.PATH ?? "").join(path.delimiter),
  );
  return toolPath;
}

/** Runs the fjord CLI from source, as a user would, and never throws on a non-zero exit. */
export async function runFjord(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const PATH = await peerToolPath();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", path.join(root, "src/cli/main.ts"), ...args],
      { cwd: root, env: { ...process.env, PATH, NO_COLOR: "1", ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
