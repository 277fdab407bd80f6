import assert from "node:assert/strict";
import { test } from "node:test";
import { remoteUrlProblem } from "./remote-url.ts";

const allowed = [
  "https://git.example/platform.git",
  "http://127.0.0.1:8080/repo.git",
  "ssh://git@git.example:2222/org/repo.git",
  "ssh://git.example/repo",
  "git@github.com:org/repo.git",
  "deploy_bot@git.example:/srv/git/repo.git",
  "https://git.example/ünïcode/repo.git",
];

const refused: Array<[url: string, problem: RegExp]> = [
  ["file:///srv/git/other-team.git", /is a local path; the controller fetches only over https:\/\/, http:\/\/ or ssh:\/\/ \(or scp-like user@host:path\): serve the repository over HTTPS or SSH/],
  ["FILE:///etc", /is a local path/],
  ["/var/cache/fjord/git/abc", /is a local path/],
  ["./a:b", /is a local path/],
  ["/x:y", /is a local path/],
  ["../other", /is a local path/],
  ["C:\\repos\\x", /is a local path/],
  ["ext::sh -c touch% /tmp/pwned", /names a git remote helper/],
  ["fd::3", /names a git remote helper/],
  ["git://git.example/repo", /is not a URL the controller may use/],
  ["ftp://git.example/repo", /is not a URL the controller may use/],
  ["HTTPS://git.example/repo", /is not a URL the controller may use/],
  ["https://", /is not a URL/],
  ["https://git.example/repo\n[core]", /is not a URL/],
  ["https://git.example/ repo", /is not a URL/],
  ["ssh://-oProxyCommand=touch%20x/repo", /is not a URL/],
  ["host:path", /is not a URL/],
  ["a@b/c:d", /is not a URL/],
  ["a@-oProxyCommand=x:repo", /is not a URL/],
  ["-upload-pack=touch x", /is not a URL/],
  ["", /is not a URL/],
];

for (const url of allowed) {
  test(`the controller may use ${JSON.stringify(url)}`, () => assert.equal(remoteUrlProblem(url), undefined));
}

for (const [url, problem] of refused) {
  test(`the controller refuses ${JSON.stringify(url)}`, () => assert.match(remoteUrlProblem(url) ?? "accepted", problem));
}
