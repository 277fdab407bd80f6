/** The controller's HTTP server: Git push webhooks, the sealing routes, Prometheus metrics and health probes. */
export { createControllerServer, createMetricsServer, REQUEST_TIMEOUT_MS, type ControllerServerOptions, type MetricsSource } from "./http-server.ts";
export type { ControllerServer } from "./server-type.ts";
export type { PushEvent } from "./push-payload.ts";
export { WEBHOOK_BODY_LIMIT, WEBHOOK_RATE_LIMITS, WEBHOOK_REFUSAL, type Receiver, type WebhookLimits } from "./webhook-route.ts";
export type { ReceiverType } from "./webhook-signatures.ts";
export { MAX_SEALING_REQUESTS_IN_FLIGHT, SEALED_SECRET_BODY_LIMIT, type SealingRouteOptions } from "./sealing-routes.ts";
export { createAdmissionServer, type AdmissionAnswer, type AdmissionServer, type AdmissionServerOptions } from "./admission-server.ts";
