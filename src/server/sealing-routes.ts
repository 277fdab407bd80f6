import type { ControllerServer } from "./http-server.ts";

export interface SealingRouteOptions {
  /** The sealing certificate (PEM) served at `GET /v1/cert.pem`; undefined while there is none. */
  sealingCertificate?: () => string | undefined;
  /** `POST /v1/verify`: whether the SealedSecret in the body (YAML or JSON) unseals with the controller's keys. */
  verifySealedSecret?: (manifest: string) => Promise<boolean>;
  /**
   * `POST /v1/rotate` (kubeseal --re-encrypt): the SealedSecret in the body sealed again with the
   * newest key. An error with a `statusCode` below 500 is the client's fault and its message is
   * returned; it must never hold secret values.
   */
  reEncryptSealedSecret?: (manifest: string) => Promise<unknown>;
}

/** A sealed Secret of the API's 1 MiB limit grows by base64 and per-value RSA blocks. */
export const SEALED_SECRET_BODY_LIMIT = 4 * 1024 * 1024;

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
