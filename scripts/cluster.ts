/**
 * `npm run cluster -- up|down|status|build`: the local control plane (testenv/) from the shell.
 * Development tooling, not part of the fjord CLI or its image.
 */
import { clusterCommand } from "../testenv/cluster-command.ts";

await clusterCommand().parseAsync(process.argv);
