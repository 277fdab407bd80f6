import type { FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from "fastify";
import type { Logger } from "../util/logger.ts";

/**
 * The fastify instance the controller's routes are registered on. In a module of its own so
 * that route modules need not import the server that registers them.
 */
export type ControllerServer = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>;
