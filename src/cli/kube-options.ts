import type { Command } from "commander";
import { EXIT_CODES, SyncError } from "../apply/errors.ts";
import { KubeClient } from "../kube/client.ts";
import { paint, useColor } from "./output.ts";

/** Namespace of fjord's own objects, and the default `-n` of the commands about them (as Flux's CLI does). */
export const SYSTEM_NAMESPACE = "fjord-system";

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
}

export function addKubeOptions(command: Command): Command {
  return command.option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)").option("--context <name>", "kubeconfig context");
}

export function kubeClient(flags: KubeFlags): KubeClient {
  return KubeClient.load({ ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) });
}

/** A failure that already says everything the user needs; printed as it is, with its exit code. */
export class CliFailure extends Error {
  override readonly name = "CliFailure";

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Runs a command body: its return value is the exit code; an error is one red line on stderr. */
export async function runCli(body: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await body()) ?? 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${paint("red", "error:", useColor(process.stderr))} ${message}\n`);
    process.exitCode = error instanceof CliFailure ? error.exitCode : error instanceof SyncError ? EXIT_CODES[error.failure] : EXIT_CODES.error;
  }
}
