/**
 * The long fuzz run: every fuzz target (src/**\/x.fuzz.test.ts) with a hundred times the inputs
 * of the short run in `npm test`, one file at a time, each under a watchdog (a parser stuck in
 * a loop cannot be interrupted from its own thread; the watchdog kills the file and names the
 * target that was running). Prints a line per target: inputs, how many were refused, time,
 * slowest input, heap retained. Exits non-zero on any failure, with fast-check's counterexample
 * and seed above (replay with FJORD_FUZZ_SEED=<seed> and the file).
 *
 *   npm run fuzz [-- --runs N] [-- --timeout-minutes M] [files...]
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEFAULT_FUZZ_RUNS } from "../testenv/fuzz.ts";

const root = path.resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index >= 0 ? args.splice(index, 2)[1] : undefined;
};
const runs = Number(option("--runs") ?? DEFAULT_FUZZ_RUNS * 100);
const timeoutMs = Number(option("--timeout-minutes") ?? 30) * 60_000;
const files = args.length > 0 ? args : (await readdir(path.join(root, "src"), { recursive: true })).filter((file) => file.endsWith(".fuzz.test.ts")).map((file) => path.join("src", file)).sort();

interface ReportLine {
  event: "start" | "pass" | "fail";
  name: string;
  runs: number;
  ms?: number;
  slowestMs?: number;
  errors?: number;
  retainedMiB?: number;
}

const scratch = await mkdtemp(path.join(tmpdir(), "fjord-fuzz-"));
const rows: string[] = [];
let failed = 0;
const started = Date.now();
for (const file of files) {
  const report = path.join(scratch, `${path.basename(file)}.jsonl`);
  process.stderr.write(`fuzz: ${file} (${runs} inputs per target)\n`);
  const { code, timedOut } = await new Promise<{ code: number; timedOut: boolean }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-reporter=dot", `--test-timeout=${timeoutMs}`, file], {
      cwd: root,
      env: { ...process.env, FJORD_FUZZ_RUNS: String(runs), FJORD_FUZZ_REPORT: report },
      stdio: "inherit",
    });
    let timedOut = false;
    const watchdog = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("exit", (exitCode, signal) => {
      clearTimeout(watchdog);
      resolve({ code: exitCode ?? (signal ? 1 : 0), timedOut });
    });
  });
  const lines = (await readFile(report, "utf8").catch(() => ""))
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as ReportLine);
  const finished = new Set(lines.filter((line) => line.event !== "start").map((line) => line.name));
  for (const line of lines) {
    if (line.event === "pass") rows.push(`ok    ${line.name}: ${line.runs} inputs (${line.errors} refused) in ${((line.ms ?? 0) / 1000).toFixed(1)} s, slowest ${line.slowestMs} ms CPU, heap retained ${line.retainedMiB} MiB`);
    if (line.event === "fail") rows.push(`FAIL  ${line.name}: failed after ${line.runs} inputs (${((line.ms ?? 0) / 1000).toFixed(1)} s); counterexample and seed above`);
    if (line.event === "start" && !finished.has(line.name)) rows.push(`FAIL  ${line.name}: ${timedOut ? `still running after ${timeoutMs / 60_000} min, killed (a hang)` : "did not finish (the process died)"}`);
  }
  if (code !== 0 || timedOut) {
    failed++;
    if (lines.length === 0) rows.push(`FAIL  ${file}: exit code ${code}, no target reported`);
  }
}
await rm(scratch, { recursive: true, force: true });
process.stdout.write(`\n${rows.join("\n")}\n\n${files.length} files, ${failed} failed, ${((Date.now() - started) / 60_000).toFixed(1)} min\n`);
process.exit(failed > 0 ? 1 : 0);
