import assert from "node:assert/strict";
import { test } from "node:test";
import { redactText, splitCredentials } from "./redact.ts";

test("http(s) URLs lose all their userinfo, which becomes basic-auth credentials", () => {
  assert.deepEqual(splitCredentials("https://bob:s%40cret@git.example.com/org/repo.git"), {
    url: "https://git.example.com/org/repo.git",
    credentials: { username: "bob", password: "s@cret" },
  });
  // GitHub accepts a token as the user name: that is a secret too.
  assert.deepEqual(splitCredentials("https://ghp_abcdef@github.com/o/r"), {
    url: "https://github.com/o/r",
    credentials: { username: "ghp_abcdef", password: "" },
  });
  // A raw @ in the password must not leave half of it in the URL.
  assert.equal(splitCredentials("http://u:p@ss@host/r.git").url, "http://host/r.git");
  assert.deepEqual(splitCredentials("https://host/r.git"), { url: "https://host/r.git" });
});

test("ssh URLs keep the user name and lose a password", () => {
  assert.deepEqual(splitCredentials("ssh://git@host:2222/r.git"), { url: "ssh://git@host:2222/r.git" });
  assert.deepEqual(splitCredentials("ssh://git:pw@host/r.git"), { url: "ssh://git@host/r.git" });
  assert.deepEqual(splitCredentials("git@github.com:org/repo.git"), { url: "git@github.com:org/repo.git" });
});

test("text is redacted: userinfo in URLs and every known secret", () => {
  assert.equal(
    redactText("fatal: unable to access 'https://user:tok123456@host/r.git/': token tok123456 rejected", ["tok123456"]),
    "fatal: unable to access 'https://***@host/r.git/': token *** rejected",
  );
  assert.equal(redactText("nothing here", ["ab"]), "nothing here", "very short secrets are left alone");
});

test("an ssh user name stays readable in text; a password in any URL does not", () => {
  assert.equal(redactText("cannot reach ssh://git@host/r.git"), "cannot reach ssh://git@host/r.git");
  assert.equal(redactText("see ssh://git:hunter2@host/r.git"), "see ssh://git:***@host/r.git");
});
