import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { KubeClient } from "./client.ts";

test("an impersonating client shares its parent's connections, and closing it leaves them open", async (t) => {
  const connections: number[] = [];
  const seen: Array<string | undefined> = [];
  const server = http.createServer((request, response) => {
    seen.push(request.headers["impersonate-user"] as string | undefined);
    response.setHeader("Content-Type", "application/json");
    response.end("{}");
  });
  server.on("connection", () => connections.push(Date.now()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const dir = await mkdtemp(path.join(os.tmpdir(), "fjord-client-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "config");
  const { port } = server.address() as AddressInfo;
  await writeFile(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "c",
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      clusters: [{ name: "c", cluster: { server: `http://127.0.0.1:${port}` } }],
      users: [{ name: "u", user: { token: "t" } }],
    }),
  );

  const client = KubeClient.load({ kubeconfig: file, maxSockets: 1 });
  t.after(() => client.close());
  await client.request("GET", "/api");
  const applier = client.impersonating("system:serviceaccount:apps:deployer");
  await applier.request("GET", "/api");
  applier.close();
  await client.request("GET", "/api");

  assert.deepEqual(seen, [undefined, "system:serviceaccount:apps:deployer", undefined]);
  assert.equal(connections.length, 1, "all three requests went over one kept-alive connection");
});
