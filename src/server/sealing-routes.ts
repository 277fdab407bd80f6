import type { ControllerServer } from "./server-type.ts";

export interface SealingRouteOptions {
  /** The sealing certificate (PEM) served at `GET /v1/cert.pem`; undefined while there is none. */
  sealingCertificate?: () => string | undefined;
  /**
   * `POST /v1/verify`: whether the SealedSecret in the body (YAML or JSON) unseals with the
   * controller's keys. For this and the next, an error with a `statusCode` (and optionally
   * `retryAfterSeconds`) is answered with that status and its message, which must never hold
   * secret values: below 500 the client's fault, 503 busy.
   */
  verifySealedSecret?: (manifest: string) => Promise<boolean>;
  /** `POST /v1/rotate` (kubeseal --re-encrypt): the SealedSecret in the body sealed again with the newest key. */
  reEncryptSealedSecret?: (manifest: string) => Promise<unknown>;
}

/**
 * The largest SealedSecret a cluster can hold is about 1.5 MiB (etcd's default request limit;
 * the Secret it unseals to is capped at 1 MiB of data, which base64 and the per-value RSA blocks
 * grow by a third). kubeseal posts the user's file as it is, so 2 MiB leaves room for YAML
 * indentation and comments around the largest one, and no more.
 */
export const SEALED_SECRET_BODY_LIMIT = 2 * 1024 * 1024;

/**
 * Sealing POSTs being received, queued or checked at once. The checks run one at a time on a
 * worker thread, so a few waiting is plenty; more are answered 503 with Retry-After before
 * their body is read, which also bounds the memory bodies take to 4 × 2 MiB.
 */
export const MAX_SEALING_REQUESTS_IN_FLIGHT = 4;

/**
 * The routes kubeseal talks to, through the API server's service proxy, with upstream's paths
 * and status codes: 200 and the PEM, 409 for a SealedSecret that does not unseal. Bodies are
 * read as text in a scope of their own, because kubeseal posts YAML or JSON under whatever
 * content type its client sets.
 */
export function registerSealingRoutes(app: ControllerServer, options: SealingRouteOptions): void {
  const { sealingCertificate, verifySealedSecret, reEncryptSealedSecret } = options;
  if (sealingCertificate) {
    app.get("/v1/cert.pem", (_request, reply) => {
      const pem = sealingCertificate();
      if (!pem) return reply.code(503).type("text/plain").send("no sealing certificate yet\n");
      return reply.type("application/x-pem-file").send(pem);
    });
  }
  if (!verifySealedSecret && !reEncryptSealedSecret) return;
  void app.register((scope, _pluginOptions, done) => {
    let inFlight = 0;
    scope.addHook("onRequest", (_request, reply, next) => {
      if (inFlight >= MAX_SEALING_REQUESTS_IN_FLIGHT) {
        // The body is left unread, so the connection is closed rather than kept waiting for it.
        void reply.code(503).header("retry-after", "1").header("connection", "close").send({ error: `the controller is busy with ${inFlight} sealing requests; retry in 1 s` });
        return;
      }
      inFlight++;
      // `close` comes once the response is sent or the connection dropped, whichever happens.
      reply.raw.once("close", () => inFlight--);
      next();
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: SEALED_SECRET_BODY_LIMIT }, (_request, body, parsed) => parsed(null, body));
    const bodyOf = (body: unknown) => (typeof body === "string" ? body : "");
    if (verifySealedSecret) {
      scope.post("/v1/verify", { bodyLimit: SEALED_SECRET_BODY_LIMIT }, async (request, reply) =>
        (await verifySealedSecret(bodyOf(request.body)))
          ? reply.type("text/plain").send("ok\n")
          : reply.code(409).send({ error: "the SealedSecret does not unseal with this controller's keys" }),
      );
    }
    if (reEncryptSealedSecret) {
      scope.post("/v1/rotate", { bodyLimit: SEALED_SECRET_BODY_LIMIT }, async (request, reply) => reply.type("application/json").send(JSON.stringify(await reEncryptSealedSecret(bodyOf(request.body)))));
    }
    done();
  });
}
