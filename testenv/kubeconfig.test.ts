import assert from "node:assert/strict";
import { test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { renderKubeconfig } from "./kubeconfig.ts";

test("the rendered kubeconfig is self-contained and loads as the current context", () => {
  const text = renderKubeconfig("https://127.0.0.1:6443", "CA PEM", { name: "fjord-admin", certificatePem: "CERT PEM", privateKeyPem: "KEY PEM" });
  const config = new KubeConfig();
  config.loadFromString(text);
  assert.equal(config.getCurrentContext(), "fjord-local");
  assert.equal(config.getCurrentCluster()?.server, "https://127.0.0.1:6443");
  assert.equal(Buffer.from(config.getCurrentCluster()?.caData ?? "", "base64").toString(), "CA PEM");
  assert.equal(config.getCurrentUser()?.name, "fjord-admin");
  assert.equal(Buffer.from(config.getCurrentUser()?.keyData ?? "", "base64").toString(), "KEY PEM");
});
