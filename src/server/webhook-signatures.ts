import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export type ReceiverType = "github" | "gitlab" | "generic";

/**
 * How a delivery proves it comes from whoever holds the secret:
 * - `hub-signature-256`: GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`;
 * - `hub-signature`: the same under `X-Hub-Signature` (Bitbucket Server and Data Center);
 * - `gitea-signature`: Gitea's `X-Gitea-Signature: <hex HMAC-SHA256 of the body>`;
 * - `x-signature`: `X-Signature: sha256=<hex HMAC>` (Flux's generic-hmac, fjord's file receiver `generic`);
 * - `gitlab-token`: GitLab's `X-Gitlab-Token` equal to the secret;
 * - `authorization`: an `Authorization` header equal to the secret (Harbor's auth header);
 * - `path`: nothing beyond the path, which only the secret's holder can compute (Flux's generic,
 *   Docker Hub, Quay, CDEvents, which sign nothing).
 */
export type SignatureScheme = "hub-signature-256" | "hub-signature" | "gitea-signature" | "x-signature" | "gitlab-token" | "authorization" | "path";

/** The file receiver's types (`--webhook-config`); its `generic` is signed, unlike a Receiver object's. */
const FILE_RECEIVER_SCHEMES: Record<ReceiverType, SignatureScheme> = { github: "hub-signature-256", gitlab: "gitlab-token", generic: "x-signature" };

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

/** What a verified delivery asks for; `name` is the provider's event name, for logs. */
export type WebhookEvent = { kind: "push" | "ping" | "ignored"; name: string };

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const GITLAB_PUSH_EVENTS = new Set(["Push Hook", "Tag Push Hook"]);

/** The file receiver's check: verifyDelivery with the scheme of its type. */
export function verifyWebhookSignature(type: ReceiverType, secret: string, headers: IncomingHttpHeaders, rawBody: Buffer): SignatureCheck {
  return verifyDelivery(FILE_RECEIVER_SCHEMES[type], secret, headers, rawBody);
}

/**
 * Checks that a delivery comes from whoever holds the receiver's secret. The reasons name
 * headers and algorithms only, never the secret or the signature, so they can be logged.
 *
 * Every scheme's check runs whatever the scheme, each comparing fixed-length digests: the time
 * taken depends on the body's length only, never on the scheme, the secret or how close a
 * signature came, so a caller cannot tell a receiver's kind (or, with a dummy receiver for
 * unknown paths, whether one exists) by timing the answer.
 */
export function verifyDelivery(scheme: SignatureScheme, secret: string, headers: IncomingHttpHeaders, rawBody: Buffer): SignatureCheck {
  const bodyHmac = createHmac("sha256", secret).update(rawBody).digest();
  const gitea = singleHeader(headers, "x-gitea-signature");
  const checks: Record<SignatureScheme, SignatureCheck> = {
    "hub-signature-256": checkHmacSha256(bodyHmac, singleHeader(headers, "x-hub-signature-256"), "X-Hub-Signature-256"),
    "hub-signature": checkHmacSha256(bodyHmac, singleHeader(headers, "x-hub-signature"), "X-Hub-Signature"),
    "gitea-signature": checkHmacSha256(bodyHmac, gitea === undefined ? undefined : `sha256=${gitea}`, "X-Gitea-Signature"),
    "x-signature": checkHmacSha256(bodyHmac, singleHeader(headers, "x-signature"), "X-Signature"),
    "gitlab-token": checkHeaderEquals(secret, singleHeader(headers, "x-gitlab-token"), "X-Gitlab-Token"),
    authorization: checkHeaderEquals(secret, singleHeader(headers, "authorization"), "Authorization"),
    path: { valid: true },
  };
  // An empty HMAC key is a misconfiguration, and an empty token would match an empty header.
  if (secret.length === 0) return invalid("the receiver has no secret configured");
  return checks[scheme];
}

/** Only push-like events trigger; generic senders have no event header, so everything they send is a push. */
export function classifyWebhookEvent(type: ReceiverType, headers: IncomingHttpHeaders): WebhookEvent {
  switch (type) {
    case "github": {
      const name = singleHeader(headers, "x-github-event") ?? "";
      return { kind: name === "push" ? "push" : name === "ping" ? "ping" : "ignored", name };
    }
    case "gitlab": {
      const name = singleHeader(headers, "x-gitlab-event") ?? "";
      return { kind: GITLAB_PUSH_EVENTS.has(name) ? "push" : "ignored", name };
    }
    case "generic":
      return { kind: "push", name: "push" };
  }
}

/** The `sha256=<hex>` HMAC of a body, as GitHub and Flux's generic-hmac receivers expect it. */
export function signHmacSha256(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

function checkHmacSha256(expected: Buffer, header: string | undefined, headerName: string): SignatureCheck {
  const separator = header === undefined ? -1 : header.indexOf("=");
  const algorithm = header === undefined || separator < 0 ? "" : header.slice(0, separator).trim().toLowerCase();
  const hex = header === undefined || separator < 0 ? "" : header.slice(separator + 1).trim();
  const wellFormed = algorithm === "sha256" && SHA256_HEX.test(hex);
  // Compared even when malformed (against zeros), so a malformed header costs what a wrong one does.
  const same = timingSafeEqual(expected, wellFormed ? Buffer.from(hex, "hex") : Buffer.alloc(expected.length));
  if (header === undefined) return invalid(`missing ${headerName} header`);
  if (algorithm !== "sha256") return invalid(`${headerName} must be sha256=<hex HMAC of the body>`);
  if (!wellFormed) return invalid(`${headerName} is not a hex SHA-256 HMAC`);
  return same ? { valid: true } : invalid(`${headerName} does not match the body`);
}

function checkHeaderEquals(secret: string, header: string | undefined, headerName: string): SignatureCheck {
  // Hashing both sides gives equal lengths, so the comparison time says nothing about the secret's length.
  const same = timingSafeEqual(sha256(header ?? ""), sha256(secret));
  if (header === undefined) return invalid(`missing ${headerName} header`);
  return same ? { valid: true } : invalid(`${headerName} does not match`);
}

/** Node joins a repeated header into one string, which then fails its format check; a list is treated as absent. */
function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : undefined;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function invalid(reason: string): SignatureCheck {
  return { valid: false, reason };
}
