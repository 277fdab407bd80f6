import { fastify, LogController, type FastifyInstance, type FastifyRequest, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from "fastify";
import type { Logger } from "../util/logger.ts";
import type { ControllerMetrics } from "./metrics.ts";
import { registerSealingRoutes, type SealingRouteOptions } from "./sealing-routes.ts";
import { registerWebhookRoute, WEBHOOK_BODY_LIMIT, type WebhookRouteOptions } from "./webhook-route.ts";

export type ControllerServer = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>;

export interface ControllerServerOptions extends WebhookRouteOptions, SealingRouteOptions {
  metrics: ControllerMetrics;
  /** Whether the controller can do its work (caches synced, leader known); drives /readyz. */
  readiness: () => boolean;
  logger: Logger;
}

/**
 * The controller's HTTP server: Git webhooks, Prometheus metrics and the kubelet's probes.
 * Returned unstarted; the caller listens and closes.
 */
export function createControllerServer(options: ControllerServerOptions): ControllerServer {
  const app = fastify({
    loggerInstance: withoutRequestUrls(options.logger),
    // fastify's own access log prints the URL, and a webhook URL holds the receiver's token.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: WEBHOOK_BODY_LIMIT,
  });

  app.addHook("onResponse", (request, reply, done) => {
    request.log.debug({ method: request.method, route: routeOf(request), statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request completed");
    done();
  });

  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (statusCode < 500) return reply.code(statusCode).send({ error: error.message });
    request.log.error({ err: error, route: routeOf(request) }, "request failed");
    return reply.code(500).send({ error: "internal error" });
  });

  // fastify's default 404 echoes the URL into its log line.
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: "not found" }));

  registerWebhookRoute(app, options);
  registerSealingRoutes(app, options);

  app.get("/metrics", async (_request, reply) => {
    const text = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(text);
  });
  app.get("/healthz", (_request, reply) => reply.type("text/plain").send("ok\n"));
  app.get("/readyz", (_request, reply) => (options.readiness() ? reply.type("text/plain").send("ok\n") : reply.code(503).type("text/plain").send("not ready\n")));

  return app;
}

/** The route pattern (`/hook/:token`), never the URL itself. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? "(no route)";
}

/** A second line of defence: anything logging a request shows the route pattern, not the URL with its token. */
function withoutRequestUrls(logger: Logger): Logger {
  const serializeRequest = (request: { method?: string; routeOptions?: { url?: string } }) => ({ method: request.method, route: request.routeOptions?.url ?? "(no route)" });
  return logger.child({}, { serializers: { req: serializeRequest } });
}
