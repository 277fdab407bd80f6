// The README's first command, as a fresh user runs it: `npm run demo`, here with --check so it
// proves the loop (Git -> controller -> cluster, and a drift revert) and exits.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { test } from "node:test";

const root = path.resolve(import.meta.dirname, "..");

test("npm run demo brings podinfo dev and prod to Ready through the controller and reverts a kubectl scale", async () => {
  const result = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "scripts/demo.ts", "--check"], { cwd: root, timeout: 8 * 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: stdout + stderr }),
    );
  });
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /both Ready after/);
  assert.match(result.output, /application.fjord.dev\/podinfo-dev .* True /);
  assert.match(result.output, /application.fjord.dev\/podinfo-prod .* True /);
  assert.match(result.output, /drift check: kubectl scale --replicas=1 reverted to 3 in \d+ ms/);
  assert.match(result.output, /demo check passed/);
});
