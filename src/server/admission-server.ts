import { fastify, LogController } from "fastify";
import { ADMISSION_PATH } from "../admission/webhook-configuration.ts";
import { admissionResponse, MAX_REVIEW_BYTES, parseAdmissionReview, type AdmissionRequest } from "../admission/review.ts";
import type { AdmissionMode } from "../admission/decision.ts";
import { parseBoundedJson } from "../input/json.ts";
import type { Logger } from "../util/logger.ts";

/** What the controller answers for one request. */
export interface AdmissionAnswer {
  allowed: boolean;
  message?: string;
}

export interface AdmissionServerOptions {
  logger: Logger;
  mode: AdmissionMode;
  certificate: { certificate: string; privateKey: string };
  /** Decides from memory (the controller's caches): no request to the API server, so it answers in microseconds. */
  review: (request: AdmissionRequest) => AdmissionAnswer;
}

export interface AdmissionServer {
  listen(address: { host: string; port: number }): Promise<string>;
  /** Serves a renewed certificate to new connections. */
  setCertificate(certificate: { certificate: string; privateKey: string }): void;
  close(): Promise<void>;
}

/**
 * The API server gives up after the webhook's timeoutSeconds (5 s); a caller that sends its
 * body slower than this is not the API server.
 */
const ADMISSION_REQUEST_TIMEOUT_MS = 10_000;

/**
 * fjord's validating admission webhook (`POST /validate`), over TLS on a port of its own with
 * the certificate fjord manages. Anyone who can reach the port can post anything: the body is
 * bounded (MAX_REVIEW_BYTES, then 413), parsed within the JSON limits and read strictly; a
 * malformed review gets 400 naming the field, never 500, and the API server then applies the
 * webhook's failurePolicy (observe: allowed; lock: denied). An answer never says more than the
 * decision: a caller learns nothing about objects it did not name.
 */
export function createAdmissionServer(options: AdmissionServerOptions): AdmissionServer {
  const app = fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: ADMISSION_REQUEST_TIMEOUT_MS,
    bodyLimit: MAX_REVIEW_BYTES,
    https: { cert: options.certificate.certificate, key: options.certificate.privateKey, minVersion: "TLSv1.2" },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit: MAX_REVIEW_BYTES }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (statusCode === 500) request.log.error({ err: error }, "admission request failed");
    return reply.code(statusCode).send({ error: statusCode === 500 ? "internal error" : error.message });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: "not found" }));
  app.post(ADMISSION_PATH, (request, reply) => {
    let review: AdmissionRequest;
    try {
      review = parseAdmissionReview(parseBoundedJson(typeof request.body === "string" ? request.body : "", "the AdmissionReview", MAX_REVIEW_BYTES));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      request.log.warn({ error: message }, "refused a malformed AdmissionReview");
      return reply.code(400).send({ error: message });
    }
    let answer: AdmissionAnswer;
    try {
      answer = options.review(review);
    } catch (error) {
      // Never a 500: observe allows, lock denies, and the log says why.
      request.log.error({ error: error instanceof Error ? error.message : String(error), uid: review.uid }, "admission review failed");
      answer = options.mode === "observe" ? { allowed: true } : { allowed: false, message: "fjord could not decide on this change (see the controller's log); try again" };
    }
    return reply.code(200).type("application/json").send(admissionResponse(review.uid, answer.allowed, answer.message));
  });
  return {
    async listen(address) {
      return app.listen(address);
    },
    setCertificate(certificate) {
      app.server.setSecureContext({ cert: certificate.certificate, key: certificate.privateKey, minVersion: "TLSv1.2" });
    },
    async close() {
      await app.close();
    },
  };
}
