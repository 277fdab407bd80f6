import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { extractPushEvent, parseWebhookPayload, WebhookPayloadError, type PushEvent } from "./push-payload.ts";
import type { ControllerServer } from "./server-type.ts";
import { classifyWebhookEvent, verifyWebhookSignature, type ReceiverType } from "./webhook-signatures.ts";

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
}

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
  void app.register((scope, _pluginOptions, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, parsed) => parsed(null, body));
    const handler = (request: FastifyRequest, reply: FastifyReply) => handleDelivery(receivers, stranger, options, request, reply);
    scope.post("/hook/:token", { bodyLimit: WEBHOOK_BODY_LIMIT }, handler);
    scope.all("/hook/*", { bodyLimit: WEBHOOK_BODY_LIMIT }, handler);
    done();
  });
}

/**
 * The receiver whose token this is. Every configured token's digest is compared, in constant
 * time, whichever matches: the time taken does not depend on which token (if any) matched, nor
 * on how much of one a guess got right.
 */
function findReceiver(receivers: readonly KnownReceiver[], token: string): KnownReceiver | undefined {
  const wanted = digest(token);
  let found: KnownReceiver | undefined;
  for (const receiver of receivers) {
    const same = timingSafeEqual(receiver.tokenDigest, wanted);
    found = same && found === undefined ? receiver : found;
  }
  return found;
}

async function handleDelivery(receivers: readonly KnownReceiver[], stranger: Receiver, options: WebhookRouteOptions, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const params = request.params as { token?: string };
  // `/hook/*` (another method, or a path with more segments) is refused like an unknown token, after the same work.
  const shaped = request.method === "POST" && request.routeOptions.url === "/hook/:token";
  const token = shaped ? (params.token ?? "") : "";
  const match = findReceiver(receivers, token);
  // An empty token is never a receiver's, even if one was configured with it.
  const receiver = token === "" ? undefined : match;
  const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const check = verifyWebhookSignature((receiver ?? stranger).type, (receiver ?? stranger).secret, request.headers, rawBody);
  if (!shaped || receiver === undefined || !check.valid) {
    const reason = !shaped ? "not a POST to /hook/<token>" : receiver === undefined ? "unknown token" : check.valid ? "" : check.reason;
    request.log.warn({ ...(receiver ? { receiver: receiver.type } : {}), reason }, "webhook rejected");
    return reply.code(WEBHOOK_REFUSAL.statusCode).send(WEBHOOK_REFUSAL.body);
  }

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
