import assert from "node:assert/strict";
import { test } from "node:test";
import { isFileUrl, isRemoteReference, looksLikeHostPath } from "./remote-reference.ts";

test("the remote forms kustomize accepts are recognised", () => {
  for (const reference of [
    "https://github.com/kubernetes-sigs/kustomize//examples/multibases?ref=v1.0.6",
    "http://example.com/base.yaml",
    "ssh://git@github.com/org/repo//base",
    "file:///srv/repos/base.git",
    "git::https://gitlab.com/org/repo//base",
    "git@github.com:org/repo.git//base?ref=main",
    "github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6",
    "GitHub.com/org/repo",
    "gh:org/repo/base",
    "gitlab.com/org/repo",
    "example.com/org/repo.git//base",
    "example.com/org/repo?ref=v1",
    "https://dev.azure.com/org/project/_git/repo",
    "  https://github.com/org/repo  ",
    "HTTP://127.0.0.1:8080/x.yaml",
    "http:127.0.0.1/x.yaml",
    "file:/srv/other-team/base",
    "FILE:///srv/other-team/base",
    "git+file:///srv/repo",
  ]) {
    assert.equal(isRemoteReference(reference), true, reference);
  }
});

test("local paths are not remote", () => {
  for (const reference of [
    "../base",
    "./deployment.yaml",
    "base",
    "overlays/prod",
    "config.github/base",
    "my.git.repo/base",
    "patch-with:colon.yaml",
    "gitops/apps",
  ]) {
    assert.equal(isRemoteReference(reference), false, reference);
  }
});

test("file: URLs are told apart: they read the controller's disk, remote bases allowed or not", () => {
  for (const reference of ["file:///srv/repo", "FILE:/srv/repo", "git::file:///srv/repo", " file://x"]) assert.equal(isFileUrl(reference), true, reference);
  for (const reference of ["https://example.com/x", "files/config.yaml", "profile:x"]) assert.equal(isFileUrl(reference), false, reference);
});

test("scheme-less host paths are flagged by shape for the caller to check locally", () => {
  assert.equal(looksLikeHostPath("example.com/org/repo/base"), true);
  assert.equal(looksLikeHostPath("git.internal.corp.io/team/repo"), true);
  assert.equal(looksLikeHostPath("base/deployment.yaml"), false);
  assert.equal(looksLikeHostPath("app.v2/base"), false);
  assert.equal(looksLikeHostPath("../example.com/org/repo"), false);
});
