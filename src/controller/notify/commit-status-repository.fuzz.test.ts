/**
 * Fuzzing the repository address of a commit status (commit-status-repository.ts): a tenant
 * writes it (a Provider's address, a GitRepository's URL). Properties (testenv/fuzz.ts): only
 * CommitStatusAddressError; what is accepted is a URL of the host's API whose path holds only
 * safe names (no `..`, no escapes, no credentials), over https unless the host is loopback; no
 * message quotes the address's credentials.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { COMMIT_STATUS_TYPES } from "../../api/notification-types.ts";
import { hostileString, mutated } from "../../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../../testenv/fuzz.ts";
import { CommitStatusAddressError, commitStatusRepository } from "./commit-status-repository.ts";

const SECRET = "s3cr3t-pw";
const address = fc.oneof(
  mutated(
    fc.constantFrom(
      "https://github.com/org/repo.git",
      "git@github.com:org/repo.git",
      "ssh://git@gitlab.example.com:2222/group/sub/project.git",
      `https://user:${SECRET}@gitea.example.com/owner/repo`,
      "http://127.0.0.1:3000/owner/repo.git",
      "https://bitbucket.org/ws/repo",
      "https://host/a/%2e%2e/b",
      "https://host/a/..%2fb",
    ),
    4,
  ),
  hostileString,
);

test("commit status repository addresses: only the documented error; accepted ones are safe API URLs", async (t) => {
  await fuzz(t, {
    name: "commitStatusRepository (src/controller/notify/commit-status-repository.ts)",
    arbitrary: fc.tuple(fc.constantFrom(...COMMIT_STATUS_TYPES), address),
    allowed: [CommitStatusAddressError],
    run: ([type, text]) => commitStatusRepository(type, text),
    check: (result) => {
      const repository = result as ReturnType<typeof commitStatusRepository>;
      const api = new URL(repository.apiBase);
      assert.ok(api.protocol === "https:" || ["127.0.0.1", "localhost", "[::1]"].includes(api.hostname) || /^127\./.test(api.hostname), "plain http only to loopback");
      assert.equal(api.username + api.password, "", "no credentials in the API URL");
      for (const segment of repository.segments) assert.match(segment, /^[A-Za-z0-9_.-]+$/);
      assert.ok(!repository.segments.includes("..") && !repository.segments.includes("."));
      assert.ok(!JSON.stringify(repository).includes(SECRET));
    },
    checkError: (error) => assert.ok(!error.message.includes(SECRET), "a message quotes a credential"),
  });
});
