import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Socket } from "node:net";

export interface SilentServer {
  readonly port: number;
  /** Resolves once a client has connected (git is waiting for an answer that never comes). */
  connected(withinMs: number): Promise<void>;
  /** Asserts that every connection is closed within `withinMs`: the client (git's HTTP helper, a grandchild of git) is gone. */
  allClosed(withinMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Accepts connections and never says a word, like a Git host that hangs or a server behind a
 * black-holing firewall: git's smart-HTTP request waits for an answer until it is killed.
 */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    // Read (and ignore) the request: a paused socket never notices the client hanging up.
    socket.resume();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as { port: number }).port,
    async connected(withinMs) {
      if (accepted > 0) return;
      await once(server, "connection", { signal: AbortSignal.timeout(withinMs) });
    },
    async allClosed(withinMs) {
      const deadline = Date.now() + withinMs;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(accepted > 0, "git connected");
      assert.equal(sockets.size, 0, "git's connection is still open");
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
