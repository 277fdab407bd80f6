/**
 * The worker thread behind the sealing routes (request-runner.ts starts it): runs one
 * SealingJob per message and answers with its outcome and the time it took.
 */
import { parentPort } from "node:worker_threads";
import { runSealingJob, type SealingJob, type SealingOutcome } from "../../secrets/sealed/requests.ts";

export interface WorkerRequest {
  id: number;
  job: SealingJob;
}

export type WorkerResponse = { id: number; ms: number } & ({ outcome: SealingOutcome } | { failure: string });

const port = parentPort;
if (port) {
  port.on("message", ({ id, job }: WorkerRequest) => {
    const started = performance.now();
    let response: WorkerResponse;
    try {
      response = { id, outcome: runSealingJob(job), ms: performance.now() - started };
    } catch (error) {
      // Only the error's name: a message from deep in a parser or crypto could quote input.
      response = { id, failure: error instanceof Error ? error.name : typeof error, ms: performance.now() - started };
    }
    port.postMessage(response);
  });
}
