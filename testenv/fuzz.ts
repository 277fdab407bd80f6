/**
 * The property every fuzz target of fjord's parsers shares (src/**\/x.fuzz.test.ts): for any
 * input, a parser of data from outside
 *
 * - returns, or throws one of the error classes it documents (never a TypeError, RangeError,
 *   stack overflow or any other error it did not mean to throw);
 * - finishes within a time bound per input (default 1 s of CPU time, linear in the size beyond
 *   64 KiB), measured on each input (an input over the bound is measured twice more and the
 *   fastest run counts); CPU time rather than wall-clock time, because the tests
 *   share two cores with everything else and a parser is not slow because its neighbour is busy;
 * - grows the heap by a bounded amount per input, and retains nothing once the run is over
 *   (a leak or an input that makes it build a huge structure fails the property).
 *
 * A short run is part of `npm test` (FJORD_FUZZ_RUNS inputs per target, default below); `npm
 * run fuzz` (scripts/fuzz.ts) runs a hundred times as many and prints a line per target. A
 * failure names the counterexample and the seed; FJORD_FUZZ_SEED replays it.
 *
 * A synchronous parser that never returns cannot be interrupted from inside its own thread;
 * scripts/fuzz.ts runs each file under a watchdog and names the target that was running.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { TestContext } from "node:test";
import fc from "fast-check";

/** Inputs per target in the short run; scripts/fuzz.ts sets a hundred times the default. */
export const DEFAULT_FUZZ_RUNS = 60;

export function fuzzRuns(scale = 1): number {
  const configured = Number(process.env.FJORD_FUZZ_RUNS ?? DEFAULT_FUZZ_RUNS);
  const runs = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_FUZZ_RUNS;
  return Math.max(1, Math.round(runs * scale));
}

/** Per-input time bound; FJORD_FUZZ_MAX_MS raises it on a machine too slow or loaded for 1 s. */
const DEFAULT_MAX_MS = Number(process.env.FJORD_FUZZ_MAX_MS ?? 1000);

const MiB = 1024 * 1024;

// A full collection before and after a run, so that "retained" means retained, not garbage not
// yet collected. The flag can be set at run time; `gc` then exists in new contexts.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any constructor of an error
export type ErrorClass = abstract new (...args: any[]) => Error;

export interface FuzzTarget<T> {
  /** The parser and its file, e.g. "yamlStream (src/render/yaml-stream.ts)": printed in reports. */
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /** Feeds one input to the parser; its result goes to `check`. */
  run: (input: T) => unknown;
  /**
   * The errors the parser is documented to throw. `Error` itself matches only errors built as
   * `new Error(...)`, never a TypeError or RangeError.
   */
  allowed: readonly ErrorClass[];
  /** More properties of a successful result (throw or assert to fail). */
  check?: (result: unknown, input: T) => void | Promise<void>;
  /** More properties of an allowed error, e.g. that it quotes no secret. */
  checkError?: (error: Error, input: T) => void;
  /** The time bound for an input of up to 64 KiB (default 1 s); larger inputs get `msPerKiB` more per KiB, so the bound is linear in the size. */
  maxMs?: number;
  msPerKiB?: number;
  /** Heap growth allowed while one input is parsed (garbage included). Default 64 MiB. */
  maxHeapGrowth?: number;
  /** Heap retained after the whole run, once collected. Default 16 MiB. */
  maxRetained?: number;
  /** Multiplies the number of runs (expensive targets run fewer inputs). */
  runsScale?: number;
}

function isAllowed(error: unknown, allowed: readonly ErrorClass[]): error is Error {
  if (!(error instanceof Error)) return false;
  return allowed.some((kind) => (kind === Error ? error.constructor === Error : error instanceof kind));
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `a thrown ${typeof error}: ${String(error)}`;
  return `${error.constructor.name}: ${error.message.slice(0, 500)}\n${error.stack?.split("\n").slice(1, 8).join("\n") ?? ""}`;
}

/**
 * fast-check's report with long counterexamples cut short (a 100 KiB input would flood the
 * test output); the whole report goes to a file named in the message.
 */
function shortened(error: unknown, name: string): unknown {
  if (!(error instanceof Error) || error.message.length <= 4000) return error;
  const file = path.join(tmpdir(), `fjord-fuzz-${name.replace(/[^\w.-]+/g, "-").slice(0, 60)}-${process.pid}.txt`);
  writeFileSync(file, error.message);
  const message = error.message.replace(/(Counterexample: )(.*)/, (_line, label: string, example: string) => `${label}${example.slice(0, 1500)}... (${example.length} characters; whole report in ${file})`);
  return Object.assign(new Error(message.length > 6000 ? `${message.slice(0, 6000)}...` : message, { cause: error }), { stack: "" });
}

/** Characters or bytes of an input (0 for anything else), for time bounds linear in it. */
function sizeOf(input: unknown): number {
  if (typeof input === "string") return input.length;
  if (input instanceof Uint8Array) return input.byteLength;
  if (Array.isArray(input)) return input.reduce((total: number, item) => total + sizeOf(item), 0);
  return 0;
}

function reportLine(line: Record<string, unknown>): void {
  const file = process.env.FJORD_FUZZ_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/**
 * Runs a target's property under fast-check. Fails (throwing fast-check's report: the shrunk
 * counterexample, the seed and the path to replay it) on the first input that breaks it.
 */
export async function fuzz<T>(t: TestContext, target: FuzzTarget<T>): Promise<void> {
  const maxMs = target.maxMs ?? DEFAULT_MAX_MS;
  const maxHeapGrowth = target.maxHeapGrowth ?? 64 * MiB;
  const maxRetained = target.maxRetained ?? 16 * MiB;
  const numRuns = fuzzRuns(target.runsScale);
  const seedText = process.env.FJORD_FUZZ_SEED;
  reportLine({ event: "start", name: target.name, runs: numRuns });
  let slowest = 0;
  let inputs = 0;
  let errors = 0;
  const property = fc.asyncProperty(target.arbitrary, async (input) => {
    inputs++;
    const heapBefore = process.memoryUsage().heapUsed;
    const started = process.cpuUsage();
    let result: unknown;
    let failure: unknown;
    let threw = false;
    try {
      result = await target.run(input);
    } catch (error) {
      threw = true;
      failure = error;
    }
    const cpu = process.cpuUsage(started);
    let elapsed = (cpu.user + cpu.system) / 1000;
    const bound = maxMs + Math.max(0, sizeOf(input) / 1024 - 64) * (target.msPerKiB ?? 4);
    // Over the bound: measured again (twice at most) and the fastest taken, so that a garbage
    // collection or a busy neighbour is not reported as a slow parser; a real hang or a
    // superlinear parse is slow every time.
    for (let attempt = 0; attempt < 2 && elapsed > bound; attempt++) {
      const again = process.cpuUsage();
      await Promise.resolve(target.run(input)).catch(() => undefined);
      const spent = process.cpuUsage(again);
      elapsed = Math.min(elapsed, (spent.user + spent.system) / 1000);
    }
    const growth = process.memoryUsage().heapUsed - heapBefore;
    slowest = Math.max(slowest, elapsed);
    if (threw) {
      if (!isAllowed(failure, target.allowed)) {
        throw new Error(`unexpected exception (allowed: ${target.allowed.map((kind) => kind.name).join(", ")}): ${describeError(failure)}`);
      }
      if (failure.message.trim() === "") throw new Error(`${failure.constructor.name} without a message`);
      errors++;
      target.checkError?.(failure, input);
    } else {
      await target.check?.(result, input);
    }
    if (elapsed > bound) throw new Error(`one input took ${Math.round(elapsed)} ms of CPU time, more than the bound of ${Math.round(bound)} ms`);
    if (growth > maxHeapGrowth) throw new Error(`one input grew the heap by ${(growth / MiB).toFixed(1)} MiB, more than ${maxHeapGrowth / MiB} MiB`);
  });
  collectGarbage();
  const heapAtStart = process.memoryUsage().heapUsed;
  const started = performance.now();
  try {
    await fc.assert(property, { numRuns, includeErrorInReport: true, ...(seedText ? { seed: Number(seedText) } : {}) });
  } catch (error) {
    reportLine({ event: "fail", name: target.name, runs: inputs, ms: Math.round(performance.now() - started) });
    throw shortened(error, target.name);
  }
  collectGarbage();
  const retained = process.memoryUsage().heapUsed - heapAtStart;
  const ms = Math.round(performance.now() - started);
  reportLine({ event: "pass", name: target.name, runs: numRuns, ms, slowestMs: Math.round(slowest), errors, retainedMiB: Number((retained / MiB).toFixed(1)) });
  t.diagnostic(`${target.name}: ${numRuns} inputs (${errors} refused) in ${ms} ms, slowest ${Math.round(slowest)} ms, heap retained ${(retained / MiB).toFixed(1)} MiB`);
  if (retained > maxRetained) throw new Error(`${target.name}: the heap kept ${(retained / MiB).toFixed(1)} MiB after ${numRuns} inputs, more than ${maxRetained / MiB} MiB`);
}
