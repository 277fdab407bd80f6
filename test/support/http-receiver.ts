/**
 * A local HTTP receiver standing in for a notification endpoint (Slack, a generic webhook...):
 * it records every request as received; `failFirst` requests are answered 500, as a receiver
 * that is down and then recovers, and so is every request while `isDown()` says so.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpReceiver {
  url: string;
  received: ReceivedRequest[];
  attempts(): number;
  close(): Promise<void>;
}

export async function startHttpReceiver(failFirst = 0, isDown: () => boolean = () => false): Promise<HttpReceiver> {
  const received: ReceivedRequest[] = [];
  let attempts = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      attempts++;
      if (attempts <= failFirst || isDown()) {
        response.writeHead(500).end("down");
        return;
      }
      received.push({ path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, attempts: () => attempts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
