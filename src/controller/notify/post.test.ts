/**
 * postOnce against real local servers: an HTTPS receiver whose certificate a private CA (src/pki)
 * signed, reached with the Provider's CA and refused without it; an http:// proxy, tunnelling
 * HTTPS (CONNECT) and forwarding plain HTTP; redirects never followed.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type AddressInfo, type Socket } from "node:net";
import { test, type TestContext } from "node:test";
import { createCertificateAuthority, issueCertificate } from "../../pki/x509.ts";
import { postOnce } from "./post.ts";

async function listen(t: TestContext, server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => (sockets.add(socket), socket.once("close", () => sockets.delete(socket))));
  // Tunnels and kept-alive connections would hold close() forever.
  t.after(() => new Promise<void>((resolve) => (server.close(() => resolve()), sockets.forEach((socket) => socket.destroy()))));
  return (server.address() as AddressInfo).port;
}

const bodyOf = (request: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });

async function httpsReceiver(t: TestContext) {
  const ca = await createCertificateAuthority("fjord test notification CA");
  const leaf = await issueCertificate(ca, { commonName: "receiver", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"], usage: "server" });
  const received: string[] = [];
  const server = createHttpsServer({ key: leaf.privateKeyPem, cert: leaf.certificatePem }, (request, response) => {
    void bodyOf(request).then((body) => {
      received.push(body);
      response.writeHead(204).end();
    });
  });
  const port = await listen(t, server);
  return { url: `https://127.0.0.1:${port}/hook`, caPem: ca.certificatePem, received };
}

/** An http:// proxy: CONNECT tunnels, and absolute-form requests forwarded; what it saw is recorded. */
async function proxy(t: TestContext) {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(`${request.method ?? ""} ${request.url ?? ""} ${request.headers["proxy-authorization"] ?? ""}`.trim());
    void bodyOf(request).then(async (body) => {
      const answer = await fetch(request.url ?? "", { method: request.method ?? "POST", body, headers: { "content-type": "application/json" } });
      response.writeHead(answer.status).end();
    });
  });
  server.on("connect", (request: IncomingMessage, socket) => {
    seen.push(`CONNECT ${request.url ?? ""} ${request.headers["proxy-authorization"] ?? ""}`.trim());
    const [host = "", port = "443"] = (request.url ?? "").split(/:(?=\d+$)/);
    const upstream = connect(Number(port), host, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  const port = await listen(t, server);
  return { url: `http://127.0.0.1:${port}`, port, seen };
}

const send = (url: string, options: { caPem?: string; proxy?: string } = {}) => postOnce(url, { "content-type": "application/json" }, '{"n":1}', { timeoutMs: 5_000, signal: new AbortController().signal, ...options });

test("certSecretRef: a receiver with a private CA's certificate is reached with that CA, and refused without it", async (t) => {
  const receiver = await httpsReceiver(t);
  await assert.rejects(send(receiver.url), /self[- ]signed|unable to (get|verify)|certificate/i);
  assert.equal(await send(receiver.url, { caPem: receiver.caPem }), 204);
  assert.deepEqual(receiver.received, ['{"n":1}']);
});

test("proxy: HTTPS goes through a CONNECT tunnel (TLS still checked end to end), plain HTTP in absolute form; credentials as Proxy-Authorization", async (t) => {
  const receiver = await httpsReceiver(t);
  const relay = await proxy(t);
  assert.equal(await send(receiver.url, { caPem: receiver.caPem, proxy: `http://fjord:pw%40x@127.0.0.1:${relay.port}` }), 204);
  await assert.rejects(send(receiver.url, { proxy: relay.url }), /self[- ]signed|unable to (get|verify)|certificate/i, "the tunnel does not weaken the certificate check");
  const plain = createServer((request, response) => void bodyOf(request).then(() => response.writeHead(200).end()));
  const plainPort = await listen(t, plain);
  assert.equal(await send(`http://127.0.0.1:${plainPort}/events`, { proxy: relay.url }), 200);
  const basic = `Basic ${Buffer.from("fjord:pw@x").toString("base64")}`;
  assert.deepEqual(relay.seen, [`CONNECT 127.0.0.1:${new URL(receiver.url).port} ${basic}`, `CONNECT 127.0.0.1:${new URL(receiver.url).port}`, `POST http://127.0.0.1:${plainPort}/events`]);
  assert.equal(receiver.received.length, 1);
});

test("a redirect is an answer, never followed: the payload is not sent elsewhere", async (t) => {
  let elsewhere = 0;
  const other = createServer((_request, response) => (elsewhere++, response.writeHead(200).end()));
  const otherPort = await listen(t, other);
  const moved = createServer((_request, response) => response.writeHead(307, { location: `http://127.0.0.1:${otherPort}/stolen` }).end());
  const movedPort = await listen(t, moved);
  assert.equal(await send(`http://127.0.0.1:${movedPort}/hook`), 307);
  assert.equal(elsewhere, 0);
});
