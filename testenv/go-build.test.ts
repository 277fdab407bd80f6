import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, goBinaryName } from "./go-build.ts";

test("binary names follow go build's rule, including major-version suffixes (regression: etcd's binary is 'server')", () => {
  assert.equal(goBinaryName("k8s.io/kubernetes/cmd/kube-apiserver"), "kube-apiserver");
  assert.equal(goBinaryName("go.etcd.io/etcd/server/v3"), "server");
  assert.equal(goBinaryName("sigs.k8s.io/kwok/cmd/kwok"), "kwok");
});

test("durations read naturally in progress lines", () => {
  assert.equal(formatDuration(4_400), "4s");
  assert.equal(formatDuration(65_000), "1m05s");
  assert.equal(formatDuration(600_000), "10m00s");
});
