import assert from "node:assert/strict";
import { test } from "node:test";
import { normaliseRepositoryUrl, repositoryLocation } from "./repository-url.ts";

test("the ways of writing one repository's URL normalise to one identity", () => {
  const table: [string, string][] = [
    ["https://github.com/org/repo.git", "github.com/org/repo"],
    ["https://github.com/org/repo", "github.com/org/repo"],
    ["https://github.com/org/repo/", "github.com/org/repo"],
    ["https://github.com/org/repo.git/", "github.com/org/repo"],
    ["http://github.com/org/repo", "github.com/org/repo"],
    ["HTTPS://GitHub.COM/org/repo.git", "github.com/org/repo"],
    ["git@github.com:org/repo.git", "github.com/org/repo"],
    ["git@GitHub.com:org/repo", "github.com/org/repo"],
    ["github.com:org/repo.git", "github.com/org/repo"],
    ["ssh://git@github.com/org/repo", "github.com/org/repo"],
    ["ssh://git@GITHUB.com:22/org/repo.git", "github.com/org/repo"],
    ["git://github.com/org/repo.git", "github.com/org/repo"],
    ["https://x-access-token:ghp_secret@github.com/org/repo.git", "github.com/org/repo"],
    ["https://github.com:443/org/repo.git", "github.com/org/repo"],
    ["  https://github.com/org/repo.git \n", "github.com/org/repo"],
    // A non-default port is a different server.
    ["ssh://git@gitlab.example.com:2222/group/sub/project.git", "gitlab.example.com:2222/group/sub/project"],
    ["https://gitlab.example.com:8443/group/sub/project", "gitlab.example.com:8443/group/sub/project"],
    // The path keeps its case; the host does not.
    ["https://GitHub.com/Org/Repo.GIT", "github.com/Org/Repo"],
    ["https://dev.azure.com/org/My%20Project/_git/repo", "dev.azure.com/org/My Project/_git/repo"],
    ["git@[::1]:org/repo.git", "[::1]/org/repo"],
    ["file:///srv/git/repo.git", "/srv/git/repo"],
    ["/srv/git/repo.git/", "/srv/git/repo"],
  ];
  for (const [input, expected] of table) assert.equal(normaliseRepositoryUrl(input), expected, input);
});

test("a source URL and each of a push's URLs compare equal", () => {
  const source = normaliseRepositoryUrl("ssh://git@github.com/org/repo");
  for (const url of ["https://github.com/org/repo.git", "git@github.com:org/repo.git", "https://github.com/org/repo"]) {
    assert.equal(normaliseRepositoryUrl(url), source, url);
  }
  assert.notEqual(normaliseRepositoryUrl("https://github.com/org/repo-two"), source);
  assert.notEqual(normaliseRepositoryUrl("https://gitlab.com/org/repo"), source);
});

test("a repository's location keeps its raw path, so `..` and escapes can be refused rather than resolved", () => {
  assert.deepEqual(repositoryLocation("https://u:p@GitHub.com:8443/org/../repo.git"), { protocol: "https", hostname: "github.com", port: "8443", path: "org/../repo" });
  assert.deepEqual(repositoryLocation("https://github.com/org/%2e%2e/repo/"), { protocol: "https", hostname: "github.com", port: "", path: "org/%2e%2e/repo" });
  assert.deepEqual(repositoryLocation("ssh://git@Gitlab.example.com:2222/g/p.git"), { protocol: "ssh", hostname: "gitlab.example.com", port: "", path: "g/p" });
  assert.deepEqual(repositoryLocation("git@bitbucket.org:ws/repo.git"), { protocol: "ssh", hostname: "bitbucket.org", port: "", path: "ws/repo" });
  for (const refused of ["git://host/org/repo", "file:///srv/repo", "https://host/org/repo?ref=x", "https://host/org/repo#x", "/srv/repo", "https://[bad/org/repo"]) {
    assert.equal(repositoryLocation(refused), undefined, refused);
  }
});
