/**
 * The request each provider type gets for one event, in the format the service documents.
 * Pure: the URL, headers and body are computed here and sent by delivery.ts. Secret values
 * (a token, a webhook URL) only ever go into the URL or a header, never into a body.
 */
import { createHmac } from "node:crypto";
import type { ProviderType } from "../../api/notification-types.ts";
import type { NotificationEvent } from "./events.ts";

/** reportingController of every payload, as Flux's events name their controller. */
export const REPORTING_CONTROLLER = "fjord-controller";

export interface ProviderTarget {
  type: ProviderType;
  /** The webhook URL (from the Secret's address key or spec.address). */
  address: string;
  channel?: string;
  username?: string;
  /** The Secret's token key: bot token, or the HMAC key of generic-hmac. */
  token?: string;
  /** certSecretRef's ca.crt, trusted besides the system roots. */
  caPem?: string;
  /** spec.proxy. */
  proxy?: string;
}

export interface OutgoingEvent extends NotificationEvent {
  /** The Alert's summary line. */
  summary?: string;
  /** Identical failures suppressed by the rate limit since the last one sent. */
  repeated?: number;
}

export interface ProviderRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Flux's event (fluxcd/pkg/apis/event v1beta1), so receivers written for Flux keep working. */
export function fluxEvent(event: OutgoingEvent): Record<string, unknown> {
  const { kind, namespace, name, uid } = event.object;
  const metadata: Record<string, string> = {};
  if (event.revision) metadata["revision"] = event.revision;
  if (event.summary) metadata["summary"] = event.summary;
  if (event.repeated) metadata["repeated"] = String(event.repeated);
  return {
    involvedObject: { kind, namespace, name, apiVersion: "fjord.dev/v1alpha1", ...(uid ? { uid } : {}) },
    severity: event.severity,
    timestamp: event.timestamp,
    message: event.message,
    reason: event.reason,
    metadata,
    reportingController: REPORTING_CONTROLLER,
  };
}

/** `sha256=<hex>`: the HMAC-SHA256 of the exact body bytes, keyed with the token, as Flux's generic-hmac sends it. */
export function hmacSignature(body: string, key: string): string {
  return `sha256=${createHmac("sha256", key).update(body, "utf8").digest("hex")}`;
}

const subjectOf = (event: OutgoingEvent) => `${event.object.kind}/${event.object.name}.${event.object.namespace}`;

/** The message with what a person needs next to it: revision, summary, repeat count. */
function facts(event: OutgoingEvent): Array<{ title: string; value: string }> {
  return [
    ...(event.revision ? [{ title: "revision", value: event.revision }] : []),
    ...(event.summary ? [{ title: "summary", value: event.summary }] : []),
    ...(event.repeated ? [{ title: "repeated", value: `${event.repeated} more times since the last notification` }] : []),
  ];
}

function plainText(event: OutgoingEvent): string {
  const lines = [`${subjectOf(event)}: ${event.reason}`, event.message, ...facts(event).map((fact) => `${fact.title}: ${fact.value}`)];
  return lines.join("\n");
}

/** Telegram MarkdownV2 needs these escaped everywhere, or it refuses the message. */
function telegramEscape(text: string): string {
  return text.replace(/[_*[\]()~`>#+\-=|{}.!\\]/g, (character) => `\\${character}`);
}

const json = (value: unknown) => JSON.stringify(value);
const JSON_HEADERS = { "content-type": "application/json" };

export function providerRequest(target: ProviderTarget, event: OutgoingEvent): ProviderRequest {
  const error = event.severity === "error";
  switch (target.type) {
    case "generic":
      return { url: target.address, headers: { ...JSON_HEADERS }, body: json(fluxEvent(event)) };
    case "generic-hmac": {
      if (!target.token) throw new Error("generic-hmac needs the Secret's token key (the HMAC key)");
      const body = json(fluxEvent(event));
      return { url: target.address, headers: { ...JSON_HEADERS, "x-signature": hmacSignature(body, target.token) }, body };
    }
    case "slack": {
      // Incoming webhook (https://api.slack.com/messaging/webhooks); with a token, chat.postMessage, same body.
      const body = {
        ...(target.channel ? { channel: target.channel } : {}),
        ...(target.username ? { username: target.username } : {}),
        attachments: [{ color: error ? "danger" : "good", author_name: subjectOf(event), title: event.reason, text: event.message, mrkdwn_in: ["text"], fields: facts(event).map((fact) => ({ ...fact, short: false })) }],
      };
      return { url: target.address, headers: { ...JSON_HEADERS, ...(target.token ? { authorization: `Bearer ${target.token}` } : {}) }, body: json(body) };
    }
    case "discord": {
      // Execute Webhook: content or embeds (https://discord.com/developers/docs/resources/webhook).
      const body = {
        ...(target.username ? { username: target.username } : {}),
        embeds: [{ title: `${subjectOf(event)}: ${event.reason}`, description: event.message.slice(0, 4096), color: error ? 0xe01e5a : 0x2eb67d, fields: facts(event).map((fact) => ({ name: fact.title, value: fact.value.slice(0, 1024) })) }],
      };
      return { url: target.address, headers: { ...JSON_HEADERS }, body: json(body) };
    }
    case "msteams": {
      // An Adaptive Card in a message, as Teams workflow webhooks take it.
      const card = {
        $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
        type: "AdaptiveCard",
        version: "1.4",
        body: [
          { type: "TextBlock", text: `${subjectOf(event)}: ${event.reason}`, weight: "bolder", size: "medium", color: error ? "attention" : "good", wrap: true },
          { type: "TextBlock", text: event.message, wrap: true },
          { type: "FactSet", facts: facts(event) },
        ],
      };
      return { url: target.address, headers: { ...JSON_HEADERS }, body: json({ type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", content: card }] }) };
    }
    case "googlechat":
      // A text message to an incoming webhook (https://developers.google.com/workspace/chat/quickstart/webhooks).
      return { url: target.address, headers: { "content-type": "application/json; charset=UTF-8" }, body: json({ text: `*${subjectOf(event)}*: ${event.reason}\n${event.message}${facts(event).map((fact) => `\n${fact.title}: ${fact.value}`).join("")}` }) };
    case "telegram": {
      // Bot API sendMessage (https://core.telegram.org/bots/api#sendmessage): the token is in the URL path.
      if (!target.token) throw new Error("telegram needs the Secret's token key (the bot token)");
      if (!target.channel) throw new Error("telegram needs spec.channel (the chat id)");
      const base = target.address.replace(/\/+$/, "");
      return { url: `${base}/bot${target.token}/sendMessage`, headers: { ...JSON_HEADERS }, body: json({ chat_id: target.channel, text: telegramEscape(plainText(event)), parse_mode: "MarkdownV2" }) };
    }
    case "github":
    case "gitlab":
    case "gitea":
    case "bitbucket":
      // A commit status is no message: it needs the commit and the repository (commit-status.ts).
      throw new Error(`type ${target.type} sets commit statuses; build its request with commitStatusRequest`);
  }
}

/** A URL as logs and status may show it: scheme, host and port; the path and query often hold the token. */
export function redactAddress(address: string): string {
  try {
    const url = new URL(address);
    return `${url.protocol}//${url.host}/***`;
  } catch {
    return "(an invalid URL)";
  }
}
