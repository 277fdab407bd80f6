import assert from "node:assert/strict";
import { test } from "node:test";
import type { CommitStatusType } from "../../api/notification-types.ts";
import { bitbucketKey, commitOfRevision, commitStateOf, commitStatusRequest, commitStatusTokenProblem, MAX_DESCRIPTION, statusContext, statusDescription } from "./commit-status.ts";
import { CommitStatusAddressError, commitStatusRepository } from "./commit-status-repository.ts";
import type { NotificationEvent } from "./events.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const object = { kind: "Application", namespace: "team-a", name: "web" };
const event = (fields: Partial<NotificationEvent>): NotificationEvent => ({ object, severity: "info", reason: "ReconciliationSucceeded", message: "Applied revision", timestamp: "2026-01-01T00:00:00Z", ...fields });

test("commit status: the repository and API base of each host, from https, ssh and scp-like addresses", () => {
  const table: Array<[CommitStatusType, string, string, string[]]> = [
    ["github", "https://github.com/org/repo.git", "https://api.github.com", ["org", "repo"]],
    ["github", "git@github.com:org/repo.git", "https://api.github.com", ["org", "repo"]],
    ["github", "ssh://git@github.com/org/repo", "https://api.github.com", ["org", "repo"]],
    ["github", "https://ghe.example.com/org/repo", "https://ghe.example.com/api/v3", ["org", "repo"]],
    ["github", "https://GHE.example.com:8443/org/repo/", "https://ghe.example.com:8443/api/v3", ["org", "repo"]],
    ["gitlab", "https://gitlab.com/group/sub/project.git", "https://gitlab.com/api/v4", ["group", "sub", "project"]],
    ["gitlab", "ssh://git@gitlab.example.com:2222/group/project.git", "https://gitlab.example.com/api/v4", ["group", "project"]],
    ["gitea", "https://gitea.example.com/owner/repo.git", "https://gitea.example.com/api/v1", ["owner", "repo"]],
    ["gitea", "http://127.0.0.1:3000/owner/repo.git", "http://127.0.0.1:3000/api/v1", ["owner", "repo"]],
    ["bitbucket", "https://bitbucket.org/workspace/repo.git", "https://api.bitbucket.org/2.0", ["workspace", "repo"]],
    ["bitbucket", "git@bitbucket.org:workspace/repo.git", "https://api.bitbucket.org/2.0", ["workspace", "repo"]],
  ];
  for (const [type, url, apiBase, segments] of table) {
    const repository = commitStatusRepository(type, url);
    assert.equal(repository.apiBase, apiBase, url);
    assert.deepEqual(repository.segments, segments, url);
  }
});

test("commit status: hostile repository addresses are refused, and the error never quotes credentials", () => {
  const hostile: Array<[CommitStatusType, string, RegExp]> = [
    ["github", "https://github.com/org/../admin/repo", /no "\.\."/],
    ["github", "https://github.com/org/%2e%2e/repo", /no percent-escapes/],
    ["github", "https://github.com/org%2Fother/repo", /no percent-escapes/],
    ["gitlab", "https://gitlab.com/group%2F..%2Fadmin/project", /no percent-escapes/],
    ["github", "https://github.com/org/./repo", /owner\/repository/],
    ["github", "https://github.com/org/repo/extra", /exactly owner\/repository/],
    ["gitea", "https://gitea.example.com/only-one", /exactly owner\/repository/],
    ["gitlab", "https://gitlab.com/project", /group\/project/],
    ["github", "https://github.com/", /owner\/repository/],
    ["github", "https://github.com/org/repo?x=1", /not an https/],
    ["github", "https://github.com/org/repo#frag", /not an https/],
    ["github", "file:///etc/passwd", /not an https/],
    ["github", "ext::sh -c touch% /tmp/pwned", /not an https/],
    ["github", "-oProxyCommand=x:org/repo", /not an https/],
    ["gitea", "http://gitea.example.com/owner/repo", /plain http.*use https/],
    ["gitea", "http://user:hunter2-secret@gitea.example.com/owner/repo", /plain http/],
    ["github", "https://x-access-token:hunter2-secret@github.com/org/%2e%2e", /no percent-escapes/],
    ["github", "https://github.com/org/re po", /not an https/],
    ["github", "https://github.com/org/repo\u202e", /owner\/repository/],
  ];
  for (const [type, url, expected] of hostile) {
    assert.throws(
      () => commitStatusRepository(type, url),
      (error: unknown) => {
        assert.ok(error instanceof CommitStatusAddressError, url);
        assert.match(error.message, expected, url);
        assert.ok(!error.message.includes("hunter2"), `${url}: the message quotes a credential`);
        return true;
      },
    );
  }
  // Credentials in an accepted address stay out of everything shown.
  const repository = commitStatusRepository("github", "https://x-access-token:hunter2-secret@github.com/org/repo.git");
  assert.ok(!JSON.stringify(repository).includes("hunter2"));
  assert.equal(repository.display, "github.com/org/repo");
});

test("commit status: states follow Flux's (progressing -> pending, applied -> success, failed -> failure)", () => {
  assert.equal(commitStateOf(event({ reason: "Progressing" })), "pending");
  assert.equal(commitStateOf(event({})), "success");
  assert.equal(commitStateOf(event({ reason: "Recovered" })), "success");
  assert.equal(commitStateOf(event({ severity: "error", reason: "BuildFailed", failure: { object: "x", reason: "BuildFailed" } })), "failure");
  assert.equal(commitStateOf(event({ reason: "DependencyNotReady", failure: { object: "x", reason: "DependencyNotReady" } })), undefined, "waiting is no failure");
  assert.equal(commitStateOf(event({ reason: "DriftReverted" })), undefined);
  assert.equal(commitStateOf(event({ reason: "RenderWarning" })), undefined);
  assert.equal(commitOfRevision(`main@sha1:${SHA}`), SHA);
  assert.equal(commitOfRevision(`sha1:${SHA}`), SHA);
  assert.equal(commitOfRevision(SHA), SHA);
  assert.equal(commitOfRevision("main@sha1:../../x"), undefined);
  assert.equal(commitOfRevision(undefined), undefined);
});

test("commit status: description and context are bounded; Bitbucket keys of long contexts are hashed to 40", () => {
  const long = statusDescription(event({ severity: "error", reason: "BuildFailed", message: `kustomize build failed:\n${"x".repeat(1000)}`, failure: { object: "x", reason: "BuildFailed" } }));
  assert.equal(Array.from(long).length, MAX_DESCRIPTION);
  assert.match(long, /^BuildFailed: kustomize build failed: x+\.\.\.$/);
  assert.equal(statusContext("prod", "team-a", "web"), "fjord/prod/team-a/web");
  assert.equal(statusContext("c", "n".repeat(63), "a".repeat(253)).length, 255);
  assert.equal(bitbucketKey("fjord/prod/a/b"), "fjord/prod/a/b");
  const key = bitbucketKey(statusContext("prod", "team-a", "a-rather-long-application-name"));
  assert.match(key, /^[0-9a-f]{40}$/);
  assert.equal(key, bitbucketKey(statusContext("prod", "team-a", "a-rather-long-application-name")), "stable, so a later state replaces the earlier");
});

test("commit status: each host's request (method, path, auth scheme, headers and body as documented)", () => {
  const status = { state: "failure" as const, sha: SHA, context: "fjord/prod/team-a/web", description: "BuildFailed: bad" };
  const github = commitStatusRequest(commitStatusRepository("github", "git@github.com:org/repo.git"), "ghp_token", status);
  assert.equal(github.url, `https://api.github.com/repos/org/repo/statuses/${SHA}`);
  assert.equal(github.headers["authorization"], "Bearer ghp_token");
  assert.equal(github.headers["accept"], "application/vnd.github+json");
  assert.equal(github.headers["x-github-api-version"], "2022-11-28");
  assert.deepEqual(JSON.parse(github.body), { state: "failure", context: "fjord/prod/team-a/web", description: "BuildFailed: bad" });

  const gitlab = commitStatusRequest(commitStatusRepository("gitlab", "https://gitlab.example.com/group/sub/project.git"), "glpat", { ...status, state: "pending" });
  assert.equal(gitlab.url, `https://gitlab.example.com/api/v4/projects/group%2Fsub%2Fproject/statuses/${SHA}`);
  assert.equal(gitlab.headers["private-token"], "glpat");
  assert.deepEqual(JSON.parse(gitlab.body), { state: "running", name: "fjord/prod/team-a/web", description: "BuildFailed: bad" });

  const gitea = commitStatusRequest(commitStatusRepository("gitea", "https://gitea.example.com/owner/repo"), "tok", { ...status, state: "success" });
  assert.equal(gitea.url, `https://gitea.example.com/api/v1/repos/owner/repo/statuses/${SHA}`);
  assert.equal(gitea.headers["authorization"], "token tok");
  assert.deepEqual(JSON.parse(gitea.body), { state: "success", context: "fjord/prod/team-a/web", description: "BuildFailed: bad" });

  const bitbucket = commitStatusRequest(commitStatusRepository("bitbucket", "https://bitbucket.org/ws/repo"), "user:app-pass", status);
  assert.equal(bitbucket.url, `https://api.bitbucket.org/2.0/repositories/ws/repo/commit/${SHA}/statuses/build`);
  assert.equal(bitbucket.headers["authorization"], `Basic ${Buffer.from("user:app-pass").toString("base64")}`);
  assert.deepEqual(JSON.parse(bitbucket.body), { key: "fjord/prod/team-a/web", state: "FAILED", name: "fjord/prod/team-a/web", description: "BuildFailed: bad", url: "https://bitbucket.org/ws/repo" });

  for (const request of [github, gitlab, gitea, bitbucket]) {
    assert.equal(request.headers["content-type"], "application/json");
    for (const secret of ["ghp_token", "glpat", "user:app-pass"]) assert.ok(!request.body.includes(secret) && !request.url.includes(secret), "the token is never in the URL or body");
  }
});

test("commit status: the token each type needs", () => {
  assert.match(commitStatusTokenProblem("github", undefined) ?? "", /needs the token key/);
  assert.match(commitStatusTokenProblem("bitbucket", "app-password-only") ?? "", /username:app-password/);
  assert.match(commitStatusTokenProblem("gitea", "tok\r\nX-Injected: 1") ?? "", /line break/);
  assert.equal(commitStatusTokenProblem("bitbucket", "user:pass"), undefined);
  assert.equal(commitStatusTokenProblem("gitlab", "glpat-x"), undefined);
});
