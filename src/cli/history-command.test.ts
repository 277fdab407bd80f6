import assert from "node:assert/strict";
import { test } from "node:test";
import type { HistoryEntry } from "../history/entry.ts";
import { historyTable } from "./history-command.ts";

const sync = (fields: Partial<HistoryEntry>): HistoryEntry => ({
  action: "sync",
  revision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
  author: "Ada Lovelace <ada@example.com>",
  committer: "",
  subject: "deploy",
  startedAt: "2026-12-07T10:00:00.000Z",
  finishedAt: "2026-12-07T10:00:01.000Z",
  result: "applied",
  actor: "",
  changes: [],
  driftReverts: [],
  ...fields,
});

test("the history table names who drifted an object, each person once", () => {
  const table = historyTable([
    sync({
      changes: [{ action: "configured", kind: "Deployment", namespace: "shop", name: "web" }],
      driftReverts: [
        { object: "Deployment.apps/shop/web", changedBy: "alice", fieldManager: "kubectl", at: "2026-12-07T10:00:00.000Z" },
        { object: "ConfigMap/shop/settings", changedBy: "alice", fieldManager: "kubectl-edit", at: "2026-12-07T10:00:00.500Z" },
        { object: "Service/shop/web", changedBy: "bob", at: "2026-12-07T10:00:00.700Z" },
      ],
    }),
  ]);
  assert.match(table, /1 configured, 3 drift reverted \(by alice, bob\)/);
  assert.match(historyTable([sync({})]), /main@0123456789ab\s+Ada Lovelace\s+-\s+deploy/, "no changes: a dash");
});
