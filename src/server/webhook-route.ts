import type { FastifyReply, FastifyRequest } from "fastify";
import type { ControllerServer } from "./http-server.ts";
import { extractPushEvent, parseWebhookPayload, WebhookPayloadError, type PushEvent } from "./push-payload.ts";
import { classifyWebhookEvent, verifyWebhookSignature, type ReceiverType } from "./webhook-signatures.ts";

export interface Receiver {
  type: ReceiverType;
  /** The HMAC key (GitHub, generic) or the token GitLab sends back verbatim. */
  secret: string;
}

export interface WebhookRouteOptions {
  /** The receiver a webhook path token belongs to, or undefined for an unknown token. */
  receivers: (token: string) => Receiver | undefined | Promise<Receiver | undefined>;
  /**
   * Asks for the sources the push concerns to be reconciled and resolves to how many there
   * were. Senders give up after about 10 s, so this should queue work, not do it.
   */
  onPush: (event: PushEvent) => Promise<number>;
}

/** Git hosts send a few KiB; the limit only keeps a hostile sender from filling memory. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/**
 * `POST /hook/:token`. Registered in a scope of its own because the signature is an HMAC of
 * the exact bytes received: the body must reach the handler as the raw Buffer, not as JSON
 * that fastify parsed and that could not be re-serialised byte for byte.
 */
export function registerWebhookRoute(app: ControllerServer, options: WebhookRouteOptions): void {
  void app.register((scope, _pluginOptions, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, parsed) => parsed(null, body));
    scope.post("/hook/:token", { bodyLimit: WEBHOOK_BODY_LIMIT }, (request, reply) => handleDelivery(options, request, reply));
    done();
  });
}

async function handleDelivery(options: WebhookRouteOptions, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { token } = request.params as { token: string };
  const receiver = await options.receivers(token);
  // The same answer as for any unknown path, so a probe learns nothing about which tokens exist.
  if (receiver === undefined) return reply.code(404).send({ error: "not found" });

  const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const check = verifyWebhookSignature(receiver.type, receiver.secret, request.headers, rawBody);
  if (!check.valid) {
    request.log.warn({ receiver: receiver.type, reason: check.reason }, "webhook rejected");
    return reply.code(401).send({ error: check.reason });
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
