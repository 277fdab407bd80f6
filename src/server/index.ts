/** The controller's HTTP server: Git push webhooks, Prometheus metrics and health probes. */
export { createControllerServer, type ControllerServer, type ControllerServerOptions } from "./http-server.ts";
export { createControllerMetrics, type ApplyAction, type ControllerMetrics, type GitFetchResult, type ObjectIdentity, type ReconcileResult } from "./metrics.ts";
export type { PushEvent } from "./push-payload.ts";
export { normaliseRepositoryUrl } from "./repository-url.ts";
export { WEBHOOK_BODY_LIMIT, type Receiver } from "./webhook-route.ts";
export type { ReceiverType } from "./webhook-signatures.ts";
export { SEALED_SECRET_BODY_LIMIT, type SealingRouteOptions } from "./sealing-routes.ts";
