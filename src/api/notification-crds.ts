/**
 * CustomResourceDefinitions of the notification kinds (notification-types.ts), registered with
 * the others in crds.ts so install, RBAC and the controller's start-up pick them up. Short names
 * are `fprovider` and `falert`, never Flux's bare ones (two CRDs claiming one short name make
 * kubectl pick a group silently). Schemas are built in functions: crds.ts imports this module.
 */
import type { KubeObject } from "../model/object.ts";
import { REMOTE_URL_PATTERN } from "../git/remote-url.ts";
import { ALERT_KIND, ALERT_LIMITS, ALERT_RESOURCE, COMMIT_STATUS_TYPES, EVENT_SEVERITIES, PROVIDER_KIND, PROVIDER_RESOURCE, PROVIDER_TYPES } from "./notification-types.ts";
import { conditions, count, crd, duration, name, object, readyColumns, secretName, string, timestamp, withRules, type Schema } from "./schema.ts";

/** Webhooks are http(s) only: another scheme (file:, gopher:) has no business in a webhook. RE2 inside a CEL string: no backslashes. */
const ADDRESS_PATTERN = "^https?://[^[:space:]]+$";
const COMMIT_STATUS_TYPE_LIST = `[${COMMIT_STATUS_TYPES.map((type) => `'${type}'`).join(", ")}]`;

function providerSpec(): Schema {
  const spec = object(
    {
      type: string("Where to send: slack, msteams, discord, googlechat, telegram, generic (JSON POST of the event), generic-hmac (signed), or a commit status on github, gitlab, gitea or bitbucket.", { enum: [...PROVIDER_TYPES] }),
      address: string(
        "Webhook URL (telegram: API base, default https://api.telegram.org). A URL holding a token belongs in the Secret's address key. Commit-status types: the repository URL (https, ssh or scp-like; default: the Application's GitRepository URL).",
        { maxLength: 2048 },
      ),
      channel: string("Channel (slack) or chat id (telegram).", { maxLength: 256 }),
      username: string("Name the message is posted as, where the service allows it.", { maxLength: 256 }),
      secretRef: object({ name: secretName("Secret name.") }, ["name"], { description: "A Secret of this namespace: key address (webhook URL, wins over spec.address), key token (bot token; the HMAC key of generic-hmac)." }),
      timeout: duration("Budget for one request.", "15s"),
      proxy: string("An http:// proxy for every request (HTTPS receivers through a CONNECT tunnel); user:password@ in it is sent as Proxy-Authorization.", { maxLength: 2048, pattern: "^http://[^\\s/]+/?$" }),
      certSecretRef: object({ name: secretName("Secret name.") }, ["name"], { description: "A Secret of this namespace whose ca.crt is trusted for the receiver, besides the system roots." }),
      suspend: { type: "boolean", description: "Send nothing; events for this Provider are dropped." },
    },
    ["type"],
  );
  // The address's form depends on the type: a webhook is http(s), a repository may be ssh too.
  return withRules(spec, [
    {
      rule: `!has(self.address) || (self.type in ${COMMIT_STATUS_TYPE_LIST} ? self.address.matches('${REMOTE_URL_PATTERN}') : self.address.matches('${ADDRESS_PATTERN}'))`,
      message: "spec.address must be an http(s) URL (for github, gitlab, gitea and bitbucket: the repository's https://, http://, ssh:// or scp-like git@host:path URL)",
    },
  ]);
}

function providerStatus(): Schema {
  return object({
    observedGeneration: count("The metadata.generation last reconciled."),
    conditions,
    lastFailure: object({ time: timestamp("When the delivery gave up."), message: string("Why; a URL is shown without its path or query.", { maxLength: 1024 }) }),
    lastDeliveryTime: timestamp("When a notification last reached the receiver."),
  });
}

function alertSpec(): Schema {
  const patterns = (description: string): Schema => ({ type: "array", maxItems: ALERT_LIMITS.patterns, description, items: string("RE2 regular expression.", { minLength: 1, maxLength: 1024 }) });
  return object(
    {
      providerRef: object({ name: name("Provider name, in this namespace.") }, ["name"]),
      eventSeverity: string("info: every event; error: failures only.", { enum: [...EVENT_SEVERITIES], default: "info" }),
      eventSources: {
        type: "array",
        minItems: 1,
        maxItems: ALERT_LIMITS.eventSources,
        description: "Objects whose events are sent.",
        items: object(
          {
            kind: string("Kind, e.g. Application, GitRepository.", { minLength: 1, maxLength: 63 }),
            name: string("Object name; * matches any run of characters.", { minLength: 1, maxLength: 253 }),
            namespace: string("Default: the Alert's namespace; another namespace matches nothing.", { maxLength: 63 }),
            matchLabels: { type: "object", maxProperties: 32, additionalProperties: { type: "string" }, description: "Labels the object must carry." },
          },
          ["kind", "name"],
        ),
      },
      inclusionList: patterns("When set, only events whose message matches one of these are sent."),
      exclusionList: patterns("Events whose message matches one of these are not sent."),
      summary: string("A line added to every notification (metadata.summary).", { maxLength: ALERT_LIMITS.summary }),
      suspend: { type: "boolean", description: "Send nothing for this Alert." },
    },
    ["providerRef", "eventSources"],
  );
}

function alertStatus(): Schema {
  return object({ observedGeneration: count("The metadata.generation last reconciled."), conditions });
}

export function notificationCustomResourceDefinitions(): KubeObject[] {
  return [
    crd({
      kind: PROVIDER_KIND,
      plural: PROVIDER_RESOURCE,
      shortNames: ["fprovider"],
      spec: providerSpec(),
      status: providerStatus(),
      columns: [{ name: "Type", type: "string", jsonPath: ".spec.type" }, ...readyColumns],
    }),
    crd({
      kind: ALERT_KIND,
      plural: ALERT_RESOURCE,
      shortNames: ["falert"],
      spec: alertSpec(),
      status: alertStatus(),
      columns: [{ name: "Provider", type: "string", jsonPath: ".spec.providerRef.name" }, { name: "Severity", type: "string", jsonPath: ".spec.eventSeverity" }, ...readyColumns],
    }),
  ];
}
