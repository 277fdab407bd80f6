import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { TokenBucket } from "../util/token-bucket.ts";
import { extractPushEvent, parseWebhookPayload, WebhookPayloadError, type PushEvent } from "./push-payload.ts";
import type { ReceiverRoute } from "../api/receiver-types.ts";
import { checkReceiverPayload, RECEIVER_SCHEMES, receiverEvent } from "./receiver-objects.ts";
import type { ControllerServer } from "./server-type.ts";
import { classifyWebhookEvent, verifyDelivery, verifyWebhookSignature, type ReceiverType } from "./webhook-signatures.ts";

export interface Receiver {
  /** The secret path segment: deliveries go to `POST /hook/<token>`. */
  token: string;
  type: ReceiverType;
  /** The HMAC key (GitHub, generic) or the token GitLab sends back verbatim. */
  secret: string;
}

export interface WebhookRouteOptions {
  receivers: readonly Receiver[];
  /**
   * Asks for the sources the push concerns to be reconciled and resolves to how many there
   * were. Senders give up after about 10 s, so this should queue work, not do it.
   */
  onPush: (event: PushEvent) => Promise<number>;
  /** The Receiver objects served now (the controller's table; empty on a replica that does not lead). Read per request. */
  receiverRoutes?: () => Iterable<ReceiverRoute>;
  /** Rate limits of `/hook/` (tests raise them); default WEBHOOK_RATE_LIMITS. */
  webhookLimits?: WebhookLimits;
}

export interface WebhookLimits {
  /** Requests whose body is being read or checked at once; more are answered 503 before their body is read. */
  inFlight: number;
  /** Requests admitted in a burst, then `perSecond`; beyond, 429 before the body is read. */
  burst: number;
  perSecond: number;
}

/**
 * Git hosts send one delivery per push, so a busy organisation's hooks stay far below 20 a
 * second; anything beyond is a flood. Both limits apply before a body is read and whatever the
 * path, so they reveal nothing of which paths exist, and they cap the memory bodies take (8 ×
 * 1 MiB) and the HMAC work anonymous callers can cause.
 */
export const WEBHOOK_RATE_LIMITS: WebhookLimits = { inFlight: 8, burst: 100, perSecond: 20 };

/**
 * Git hosts send a few KiB per push. A push of hundreds of commits can be larger (GitHub caps
 * deliveries at 25 MB); refusing it costs only that push's promptness, since the source's own
 * poll still picks the commit up, while a larger limit would let any anonymous caller make the
 * controller buffer and hash that much per request.
 */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/**
 * What every invalid webhook request gets, whatever was wrong with it (unknown token, bad or
 * missing signature, wrong method or path): exactly what any unknown path gets, so a caller
 * learns neither which tokens exist nor that webhooks are configured at all. The controller's
 * log says what was wrong.
 */
export const WEBHOOK_REFUSAL = { statusCode: 404, body: { error: "not found" } } as const;

interface KnownReceiver extends Receiver {
  tokenDigest: Buffer;
}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/**
 * Every request under `/hook/`, any method. Registered in a scope of its own because the
 * signature is an HMAC of the exact bytes received: the body must reach the handler as the raw
 * Buffer, not as JSON that fastify parsed and that could not be re-serialised byte for byte.
 */
export function registerWebhookRoute(app: ControllerServer, options: WebhookRouteOptions): void {
  const receivers: KnownReceiver[] = options.receivers.map((receiver) => ({ ...receiver, tokenDigest: digest(receiver.token) }));
  // Unknown tokens are checked against this, so that they cost what a known token with a bad signature does.
  const stranger: Receiver = { token: "", type: "github", secret: randomBytes(32).toString("hex") };
  const limits = options.webhookLimits ?? WEBHOOK_RATE_LIMITS;
  const bucket = new TokenBucket(limits.burst, limits.perSecond);
  void app.register((scope, _pluginOptions, done) => {
    let inFlight = 0;
    scope.addHook("onRequest", (_request, reply, next) => {
      const retryAfter = bucket.retryAfterSeconds();
      if (retryAfter !== undefined || inFlight >= limits.inFlight) {
        // The body is left unread, so the connection is closed rather than kept waiting for it.
        const [code, message] = retryAfter !== undefined ? [429, "too many webhook deliveries"] : [503, "too many webhook deliveries in flight"];
        void reply.code(code).header("retry-after", String(retryAfter ?? 1)).header("connection", "close").send({ error: message });
        return;
      }
      bucket.take(1);
      inFlight++;
      reply.raw.once("close", () => inFlight--);
      next();
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, parsed) => parsed(null, body));
    const handler = (request: FastifyRequest, reply: FastifyReply) => handleDelivery(receivers, stranger, options, request, reply);
    scope.post("/hook/:token", { bodyLimit: WEBHOOK_BODY_LIMIT }, handler);
    scope.all("/hook/*", { bodyLimit: WEBHOOK_BODY_LIMIT }, handler);
    done();
  });
}

type Match = { file: KnownReceiver; route?: undefined } | { route: ReceiverRoute; file?: undefined };

/**
 * The receiver this path segment names: a file receiver's token, or a Receiver object's path
 * digest. Every candidate's digest is compared, in constant time, whichever matches: the time
 * taken does not depend on which (if any) matched, nor on how much of one a guess got right.
 */
function findReceiver(receivers: readonly KnownReceiver[], routes: Iterable<ReceiverRoute>, token: string): Match | undefined {
  const wanted = digest(token);
  let found: Match | undefined;
  for (const receiver of receivers) {
    const same = timingSafeEqual(receiver.tokenDigest, wanted);
    found = same && found === undefined ? { file: receiver } : found;
  }
  for (const route of routes) {
    const same = timingSafeEqual(digest(route.segment), wanted);
    found = same && found === undefined ? { route } : found;
  }
  return found;
}

async function handleDelivery(receivers: readonly KnownReceiver[], stranger: Receiver, options: WebhookRouteOptions, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const params = request.params as { token?: string };
  // `/hook/*` (another method, or a path with more segments) is refused like an unknown token, after the same work.
  const shaped = request.method === "POST" && request.routeOptions.url === "/hook/:token";
  const token = shaped ? (params.token ?? "") : "";
  const found = findReceiver(receivers, options.receiverRoutes?.() ?? [], token);
  // An empty token is never a receiver's, even if one was configured with it.
  const match = token === "" ? undefined : found;
  const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const check = match?.route
    ? verifyDelivery(RECEIVER_SCHEMES[match.route.type], match.route.token, request.headers, rawBody)
    : verifyWebhookSignature((match?.file ?? stranger).type, (match?.file ?? stranger).secret, request.headers, rawBody);
  if (!shaped || match === undefined || !check.valid) {
    const reason = !shaped ? "not a POST to /hook/<token>" : match === undefined ? "unknown token" : check.valid ? "" : check.reason;
    const who = match?.route ? { receiver: match.route.id, type: match.route.type } : match?.file ? { receiver: match.file.type } : {};
    request.log.warn({ ...who, reason }, "webhook rejected");
    return reply.code(WEBHOOK_REFUSAL.statusCode).send(WEBHOOK_REFUSAL.body);
  }
  return match.route ? handleReceiverObject(match.route, request, reply, rawBody) : handleFileReceiver(match.file, options, request, reply, rawBody);
}

/** A verified delivery to a Receiver object: its listed resources are queued, whatever the payload names. */
function handleReceiverObject(route: ReceiverRoute, request: FastifyRequest, reply: FastifyReply, rawBody: Buffer): FastifyReply {
  const event = receiverEvent(route, request.headers);
  if (event.kind !== "push") {
    request.log.info({ receiver: route.id, type: route.type, event: event.name }, event.kind === "ping" ? "webhook ping" : "webhook event not in spec.events; ignored");
    return reply.code(200).send(event.kind === "ping" ? { ok: true } : { ignored: event.name });
  }
  try {
    checkReceiverPayload(route.type, rawBody);
  } catch (error) {
    if (!(error instanceof WebhookPayloadError)) throw error;
    request.log.warn({ receiver: route.id, type: route.type, reason: error.message }, "webhook payload refused");
    return reply.code(400).send({ error: error.message });
  }
  const triggered = route.trigger();
  request.log.info({ receiver: route.id, type: route.type, event: event.name, triggered }, "webhook delivery");
  return reply.code(202).send({ triggered });
}

async function handleFileReceiver(receiver: KnownReceiver, options: WebhookRouteOptions, request: FastifyRequest, reply: FastifyReply, rawBody: Buffer): Promise<FastifyReply> {
  const event = classifyWebhookEvent(receiver.type, request.headers);
  if (event.kind !== "push") {
    request.log.info({ receiver: receiver.type, event: event.name }, event.kind === "ping" ? "webhook ping" : "webhook event ignored");
    return reply.code(200).send(event.kind === "ping" ? { ok: true } : { ignored: event.name });
  }

  let push: PushEvent;
  try {
    push = extractPushEvent(receiver.type, parseWebhookPayload(request.headers["content-type"], rawBody));
  } catch (error) {
    if (!(error instanceof WebhookPayloadError)) throw error;
    request.log.warn({ receiver: receiver.type, event: event.name, reason: error.message }, "webhook payload refused");
    return reply.code(400).send({ error: error.message });
  }

  const triggered = await options.onPush(push);
  request.log.info(
    { receiver: receiver.type, event: event.name, repository: push.repositoryUrls[0], ref: push.ref, commit: push.commit, triggered },
    "webhook push",
  );
  return reply.code(202).send({ triggered });
}
