import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export type ReceiverType = "github" | "gitlab" | "generic";

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

/** What a verified delivery asks for; `name` is the provider's event name, for logs. */
export type WebhookEvent = { kind: "push" | "ping" | "ignored"; name: string };

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const GITLAB_PUSH_EVENTS = new Set(["Push Hook", "Tag Push Hook"]);

/**
 * Checks that a delivery comes from whoever holds the receiver's secret. The reasons name
 * headers and algorithms only, never the secret or the signature, so they can be logged and
 * returned to the sender.
 */
export function verifyWebhookSignature(type: ReceiverType, secret: string, headers: IncomingHttpHeaders, rawBody: Buffer): SignatureCheck {
  // An empty HMAC key is a misconfiguration, and an empty token would match an empty header.
  if (secret.length === 0) return invalid("the receiver has no secret configured");
  switch (type) {
    case "github":
      return verifyHmacSha256(secret, singleHeader(headers, "x-hub-signature-256"), "X-Hub-Signature-256", rawBody);
    case "gitlab":
      return verifyGitlabToken(secret, singleHeader(headers, "x-gitlab-token"));
    case "generic":
      return verifyHmacSha256(secret, singleHeader(headers, "x-signature"), "X-Signature", rawBody);
  }
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

function verifyHmacSha256(secret: string, header: string | undefined, headerName: string, rawBody: Buffer): SignatureCheck {
  if (header === undefined) return invalid(`missing ${headerName} header`);
  const separator = header.indexOf("=");
  const algorithm = separator < 0 ? "" : header.slice(0, separator).trim().toLowerCase();
  const hex = separator < 0 ? "" : header.slice(separator + 1).trim();
  if (algorithm !== "sha256") return invalid(`${headerName} must be sha256=<hex HMAC of the body>`);
  if (!SHA256_HEX.test(hex)) return invalid(`${headerName} is not a hex SHA-256 HMAC`);
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(hex, "hex")) ? { valid: true } : invalid(`${headerName} does not match the body`);
}

function verifyGitlabToken(secret: string, header: string | undefined): SignatureCheck {
  if (header === undefined) return invalid("missing X-Gitlab-Token header");
  // Hashing both sides gives equal lengths, so the comparison time says nothing about the secret's length.
  const same = timingSafeEqual(sha256(header), sha256(secret));
  return same ? { valid: true } : invalid("X-Gitlab-Token does not match");
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
