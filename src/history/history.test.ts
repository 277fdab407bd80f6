import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDuration } from "../util/duration.ts";
import { decodeCompressedJson, encodeCompressedJson } from "../util/compressed-json.ts";
import { boundHistory, boundedChanges, MAX_CHANGES_PER_ENTRY, parseEntries, type HistoryEntry } from "./entry.ts";
import { auditLines, csvCell, csvLine, parseTime, runningAt } from "./query.ts";

const sync = (revision: string, finishedAt: string, result: HistoryEntry["result"] = "applied"): HistoryEntry => ({
  action: "sync",
  revision,
  author: "Ada <ada@example.com>",
  committer: "Ada <ada@example.com>",
  subject: `deploy ${revision}`,
  startedAt: finishedAt,
  finishedAt,
  result,
  actor: "",
  changes: [{ action: "configured", kind: "Deployment", namespace: "shop", name: "web" }],
  driftReverts: [],
});

test("runningAt answers the newest applied sync at or before the moment, skipping failures and operations", () => {
  const entries = [sync("c", "2026-01-03T00:00:00Z", "failed"), sync("b", "2026-01-02T00:00:00Z", "health-timeout"), sync("a", "2026-01-01T00:00:00Z")];
  assert.equal(runningAt(entries, new Date("2026-01-01T12:00:00Z"))?.revision, "a");
  assert.equal(runningAt(entries, new Date("2026-01-04T00:00:00Z"))?.revision, "b");
  assert.equal(runningAt(entries, new Date("2025-12-31T00:00:00Z")), undefined);
});

test("history is bounded by count and by age", () => {
  const now = new Date("2026-04-01T00:00:00Z");
  const entries = Array.from({ length: 10 }, (_, i) => sync(`r${i}`, new Date(now.getTime() - i * 24 * 3600 * 1000).toISOString()));
  assert.deepEqual(boundHistory(entries, { limit: 3, maxAgeMs: 365 * 24 * 3600 * 1000 }, now).map((entry) => entry.revision), ["r0", "r1", "r2"]);
  assert.deepEqual(boundHistory(entries, { limit: 100, maxAgeMs: 2.5 * 24 * 3600 * 1000 }, now).map((entry) => entry.revision), ["r0", "r1", "r2"]);
});

test("an entry names at most MAX_CHANGES_PER_ENTRY objects and counts the rest", () => {
  const many = Array.from({ length: MAX_CHANGES_PER_ENTRY + 5 }, (_, i) => ({ action: "created" as const, kind: "ConfigMap", name: `c${i}` }));
  const bounded = boundedChanges(many);
  assert.equal(bounded.changes.length, MAX_CHANGES_PER_ENTRY);
  assert.equal(bounded.changesOmitted, 5);
});

test("stored entries of the wrong shape (an edited ConfigMap) are left out, extra fields dropped", () => {
  const good = sync("a", "2026-01-01T00:00:00Z");
  const stored = decodeCompressedJson(encodeCompressedJson({ entries: [{ ...good, secret: "hunter2" }, { action: "sync" }, "x", { ...good, result: "pwned" }] }), "test");
  const parsed = parseEntries(stored);
  assert.equal(parsed.length, 1);
  assert.equal(JSON.stringify(parsed).includes("hunter2"), false);
  assert.throws(() => parseEntries({}), /no entries list/);
});

test("times on the command line: RFC 3339 or a duration before now", () => {
  const now = new Date("2026-01-01T12:00:00Z");
  assert.equal(parseTime("2026-01-01T10:00:00Z", now, parseDuration).toISOString(), "2026-01-01T10:00:00.000Z");
  assert.equal(parseTime("2h", now, parseDuration).toISOString(), "2026-01-01T10:00:00.000Z");
  assert.throws(() => parseTime("soon", now, parseDuration), /not a time/);
});

test("audit CSV quotes cells and defuses spreadsheet formulas from commit subjects", () => {
  assert.equal(csvCell("=HYPERLINK(\"x\")"), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvCell("-2+3"), "'-2+3");
  assert.equal(csvCell("plain"), "plain");
  const [line] = auditLines("shop", "web", [{ ...sync("a", "2026-01-01T00:00:00Z"), subject: "fix, then\nbreak" }], {});
  assert.ok(line);
  const csv = csvLine(line);
  assert.equal(csv.split("\n").length, 2, "a newline stays inside its quoted cell");
  assert.match(csv, /"fix, then\nbreak"/);
  assert.match(csv, /configured Deployment\/shop\/web$/);
});
