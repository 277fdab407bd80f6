/**
 * Benchmarks: scripts that print figures (and ratios against a peer measured in the same
 * run), never timed assertions.
 *
 *   npm run bench -- apply [--objects 1000] [--namespaces 10] [--concurrency 16]
 *   npm run bench -- drift [--events 20]
 *   npm run bench -- apps [--count 1000] [--concurrency 8]
 *   npm run bench -- idle [--count 200] [--interval 30] [--intervals 3]
 *   npm run bench -- patterns
 *   npm run bench -- notify [--events 20]
 *   npm run bench -- history [--count 1000] [--entries 100]
 */
import { parseArgs } from "node:util";
import { benchApply } from "./bench-apply.ts";
import { benchApps } from "./bench-apps.ts";
import { benchDrift } from "./bench-drift.ts";
import { benchHistory } from "./bench-history.ts";
import { benchIdle } from "./bench-idle.ts";
import { benchNotify } from "./bench-notify.ts";
import { benchPatterns } from "./bench-patterns.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    objects: { type: "string", default: "1000" },
    namespaces: { type: "string", default: "10" },
    concurrency: { type: "string" },
    events: { type: "string", default: "20" },
    count: { type: "string" },
    interval: { type: "string", default: "30" },
    intervals: { type: "string", default: "3" },
    entries: { type: "string", default: "100" },
  },
});
const which = positionals[0] ?? "apply";
if (which === "apply") await benchApply(Number(values.objects), Number(values.namespaces), values.concurrency ?? "16");
else if (which === "drift") await benchDrift(Number(values.events));
else if (which === "apps") await benchApps(Number(values.count ?? "1000"), values.concurrency ?? "8");
else if (which === "idle") await benchIdle(Number(values.count ?? "200"), Number(values.interval), Number(values.intervals));
else if (which === "patterns") benchPatterns();
else if (which === "notify") await benchNotify(Number(values.events));
else if (which === "history") await benchHistory(Number(values.count ?? "1000"), Number(values.entries));
else {
  console.error(`unknown benchmark "${which}"; available: apply, drift, apps, idle, patterns, notify, history`);
  process.exit(2);
}
