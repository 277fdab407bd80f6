/** A TCP relay in front of the API server that a test can cut, to make a client's connections fail on cue. */
import { readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { TestContext } from "node:test";
import { parse, stringify } from "yaml";

export interface TcpRelay {
  /** `https://127.0.0.1:<port>`: the API server, through the relay. */
  server: string;
  /**
   * Lost network route: from now on bytes in either direction are dropped and new connections
   * hang, so requests time out rather than fail fast.
   */
  partition(): void;
  /**
   * A broken connection, as when the API server restarts: every open connection is reset and
   * new ones are refused until restore().
   */
  cut(): void;
  restore(): void;
}

export async function startTcpRelay(t: TestContext, target: URL): Promise<TcpRelay> {
  let state: "open" | "partitioned" | "cut" = "open";
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((downstream) => {
    downstream.on("error", () => undefined);
    if (state === "cut") {
      downstream.resetAndDestroy();
      return;
    }
    sockets.add(downstream);
    downstream.on("close", () => sockets.delete(downstream));
    if (state === "partitioned") return;
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => downstream.destroy());
    downstream.on("data", (chunk) => state === "partitioned" || upstream.write(chunk));
    upstream.on("data", (chunk) => state === "partitioned" || downstream.write(chunk));
    downstream.on("end", () => upstream.end());
    upstream.on("end", () => downstream.end());
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => relay.close(resolve));
  });
  const { port } = relay.address() as net.AddressInfo;
  return {
    server: `${target.protocol}//127.0.0.1:${port}`,
    partition: () => (state = "partitioned"),
    cut: () => {
      state = "cut";
      for (const socket of sockets) socket.resetAndDestroy();
    },
    restore: () => (state = "open"),
  };
}

/** A copy of `kubeconfig` (same credentials) that reaches the cluster at `server`, in `dir`. */
export async function kubeconfigFor(kubeconfig: string, server: string, dir: string): Promise<string> {
  const config = parse(await readFile(kubeconfig, "utf8")) as { clusters: { cluster: { server: string } }[] };
  for (const entry of config.clusters) entry.cluster.server = server;
  const file = path.join(dir, `kubeconfig-${new URL(server).port}`);
  await writeFile(file, stringify(config), { mode: 0o600 });
  return file;
}
