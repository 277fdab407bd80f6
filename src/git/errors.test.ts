import assert from "node:assert/strict";
import { test } from "node:test";
import { classifyGitFailure, stderrSummary } from "./errors.ts";

// Real stderr from git 2.39 and OpenSSH 9.2.
const cases: [string, string][] = [
  ["remote: unauthorized\nfatal: Authentication failed for 'http://127.0.0.1:4000/private.git/'", "auth-failed"],
  ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", "auth-failed"],
  ["fatal: unable to access 'https://h/r.git/': The requested URL returned error: 403", "auth-failed"],
  ["root@127.0.0.1: Permission denied (publickey).\r\nfatal: Could not read from remote repository.", "auth-failed"],
  [
    "@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.\r\nfatal: Could not read from remote repository.",
    "host-key-mismatch",
  ],
  ["No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.", "host-key-mismatch"],
  ["fatal: unable to access 'http://127.0.0.1:1/r.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server", "unreachable"],
  ["fatal: unable to access 'https://nope.invalid/r.git/': Could not resolve host: nope.invalid", "unreachable"],
  ["ssh: connect to host 127.0.0.1 port 1: Connection refused\r\nfatal: Could not read from remote repository.", "unreachable"],
  ["fatal: repository 'http://127.0.0.1:4000/missing.git/' not found", "unreachable"],
  ["fatal: couldn't find remote ref refs/heads/nope", "ref-not-found"],
  ["fatal: something new and strange", "git-failed"],
];

test("git's stderr maps to stable codes", () => {
  for (const [stderr, code] of cases) assert.equal(classifyGitFailure(stderr).code, code, stderr);
});

test("the summary drops git's boilerplate and keeps the reason", () => {
  assert.equal(
    stderrSummary("root@127.0.0.1: Permission denied (publickey).\r\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n"),
    "root@127.0.0.1: Permission denied (publickey).",
  );
});
