import { Command } from "commander";
import { createRequire } from "node:module";
import { controllerCommand } from "./controller-command.ts";
import { syncCommands } from "./sync-commands.ts";
import { secretsCommand } from "./secrets-command.ts";
import { installCommand } from "./install-command.ts";
import { bootstrapCommand } from "./bootstrap-command.ts";
import { getCommand } from "./app-get.ts";
import { reconcileCommands } from "./app-reconcile.ts";
import { eventsCommand } from "./app-events.ts";
import { sealCommand } from "./seal-command.ts";
import { setImageCommand } from "./set-image-command.ts";
import { migrateCommand } from "./migrate-command.ts";
import { tenantCommand } from "./tenant-command.ts";
import { auditCommand, historyCommand } from "./history-command.ts";
import { rollbackCommand } from "./rollback-command.ts";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

export function buildProgram(): Command {
  const program = new Command("fjord")
    .description("fjord: a pull-based GitOps engine for Kubernetes")
    .version(version)
    .showHelpAfterError()
  for (const command of syncCommands()) program.addCommand(command);
  program.addCommand(controllerCommand());
  program.addCommand(secretsCommand());
  program.addCommand(installCommand());
  program.addCommand(bootstrapCommand());
  program.addCommand(tenantCommand());
  program.addCommand(getCommand());
  for (const command of reconcileCommands()) program.addCommand(command);
  program.addCommand(eventsCommand());
  program.addCommand(historyCommand());
  program.addCommand(auditCommand());
  program.addCommand(rollbackCommand());
  program.addCommand(sealCommand());
  program.addCommand(setImageCommand());
  program.addCommand(migrateCommand());
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
