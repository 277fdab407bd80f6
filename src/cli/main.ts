import { Command } from "commander";
import { createRequire } from "node:module";
import { clusterCommand } from "./cluster.ts";
import { controllerCommand } from "./controller-command.ts";
import { syncCommands } from "./sync-commands.ts";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

export function buildProgram(): Command {
  const program = new Command("fjord")
    .description("fjord: a pull-based GitOps engine for Kubernetes")
    .version(version)
    .showHelpAfterError()
    .addCommand(clusterCommand());
  for (const command of syncCommands()) program.addCommand(command);
  program.addCommand(controllerCommand());
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
