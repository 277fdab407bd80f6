import { fastify, LogController, type FastifyRequest } from "fastify";
import type { Logger } from "../util/logger.ts";
import { registerSealingRoutes, type SealingRouteOptions } from "./sealing-routes.ts";
import type { ControllerServer } from "./server-type.ts";
import { registerWebhookRoute, type WebhookRouteOptions } from "./webhook-route.ts";

/** What `/metrics` serves: a Prometheus registry (the controller's, see src/controller/metrics.ts). */
export interface MetricsSource {
  readonly registry: { metrics(): Promise<string>; readonly contentType: string };
}

export interface ControllerServerOptions extends WebhookRouteOptions, SealingRouteOptions {
  metrics: MetricsSource;
  /** Also serve `/metrics` (default true); false when createMetricsServer serves it on a port of its own. */
  serveMetrics?: boolean;
  /** Whether the controller can do its work (caches synced, leader known); drives /readyz. */
  readiness: () => boolean;
  logger: Logger;
}

/**
 * A request, body included, must arrive within this. Every route is open to anonymous callers,
 * and one trickling a body in byte by byte would otherwise hold its connection and buffer for
 * as long as it likes; 30 s is ample for the largest body accepted (2 MiB) through the API
 * server's proxy.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The controller's HTTP server: Git webhooks, the sealing routes kubeseal uses, Prometheus
 * metrics and the kubelet's probes. Returned unstarted; the caller listens and closes.
 */
export function createControllerServer(options: ControllerServerOptions): ControllerServer {
  const app = createServer(options.logger);
  registerWebhookRoute(app, options);
  registerSealingRoutes(app, options);
  if (options.serveMetrics !== false) registerMetricsRoute(app, options.metrics);
  app.get("/healthz", (_request, reply) => reply.type("text/plain").send("ok\n"));
  app.get("/readyz", (_request, reply) => (options.readiness() ? reply.type("text/plain").send("ok\n") : reply.code(503).type("text/plain").send("not ready\n")));
  return app;
}

/** `/metrics` alone, for `fjord controller --metrics-bind-address`: a port that can be opened to Prometheus only. */
export function createMetricsServer(options: { metrics: MetricsSource; logger: Logger }): ControllerServer {
  const app = createServer(options.logger);
  registerMetricsRoute(app, options.metrics);
  return app;
}

function createServer(logger: Logger): ControllerServer {
  const app = fastify({
    loggerInstance: withoutRequestUrls(logger),
    // fastify's own access log prints the URL, and a webhook URL holds the receiver's token.
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: REQUEST_TIMEOUT_MS,
  });
  // Only the webhook and sealing routes take a body, each with a limit sized to its use (their
  // own scopes); anywhere else a body is never read, let alone buffered.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));

  app.addHook("onResponse", (request, reply, done) => {
    request.log.debug({ method: request.method, route: routeOf(request), statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request completed");
    done();
  });

  app.setErrorHandler((error: { statusCode?: number; message: string; retryAfterSeconds?: number }, request, reply) => {
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (error.retryAfterSeconds !== undefined) void reply.header("retry-after", String(error.retryAfterSeconds));
    // 503 is "busy, try again": its message is the route's own and says when.
    if (statusCode < 500 || statusCode === 503) return reply.code(statusCode).send({ error: error.message });
    request.log.error({ err: error, route: routeOf(request) }, "request failed");
    return reply.code(500).send({ error: "internal error" });
  });

  // fastify's default 404 echoes the URL into its log line.
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: "not found" }));
  return app;
}

function registerMetricsRoute(app: ControllerServer, metrics: MetricsSource): void {
  app.get("/metrics", async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
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
