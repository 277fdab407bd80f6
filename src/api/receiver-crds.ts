/**
 * The Receiver CustomResourceDefinition (receiver-types.ts), registered with the others in
 * crds.ts so install, RBAC and the controller's start-up pick it up. Short name `freceiver`,
 * never Flux's bare one (two CRDs claiming one short name make kubectl pick a group silently).
 */
import type { KubeObject } from "../model/object.ts";
import { RECEIVER_KIND, RECEIVER_LIMITS, RECEIVER_RESOURCE, RECEIVER_TARGET_KINDS, RECEIVER_TYPES } from "./receiver-types.ts";
import { conditions, count, crd, duration, lastHandledReconcileAt, namespace, object, readyColumns, secretName, string, withRules, type Schema } from "./schema.ts";

function receiverSpec(): Schema {
  const resource = withRules(
    object(
      {
        apiVersion: string("Accepted for Flux manifests; fjord kinds need none.", { maxLength: 253 }),
        kind: string("GitRepository (fetch now), Application (sync now) or ImageRepository (scan now).", { enum: [...RECEIVER_TARGET_KINDS] }),
        name: string("Object name, or * with matchLabels.", { minLength: 1, maxLength: 253, pattern: "^(\\*|[a-z0-9]([-a-z0-9.]*[a-z0-9])?)$" }),
        namespace: namespace("Default: the Receiver's namespace; another one needs cross-namespace references allowed."),
        matchLabels: { type: "object", maxProperties: 32, additionalProperties: { type: "string", maxLength: 63 }, description: "With name *: the labels the objects carry." },
      },
      ["kind", "name"],
    ),
    [{ rule: "self.name != '*' || has(self.matchLabels)", message: "name * needs matchLabels (as in Flux): say which objects of the kind to reconcile" }],
  );
  return object(
    {
      type: string("Who calls and how the call is verified: github, gitlab, gitea, bitbucket, generic, generic-hmac; registries: dockerhub, harbor, quay, cdevents.", { enum: [...RECEIVER_TYPES] }),
      events: {
        type: "array",
        maxItems: RECEIVER_LIMITS.events,
        description: "Event names that trigger (e.g. push, Push Hook, repo:refs_changed); empty: any.",
        items: string("Event name, compared without regard to case.", { minLength: 1, maxLength: RECEIVER_LIMITS.eventLength }),
      },
      resources: { type: "array", minItems: 1, maxItems: RECEIVER_LIMITS.resources, description: "What a verified delivery reconciles.", items: resource },
      secretRef: object({ name: secretName("Secret name.") }, ["name"], { description: "A Secret of this namespace; key token holds the shared secret." }),
      interval: duration("How often the Secret is read again (a rotated token changes webhookPath).", "10m"),
      suspend: { type: "boolean", description: "Answer deliveries as an unknown path; reconcile nothing." },
    },
    ["type", "resources", "secretRef"],
  );
}

function receiverStatus(): Schema {
  return object({
    observedGeneration: count("The metadata.generation last reconciled."),
    lastHandledReconcileAt,
    conditions,
    webhookPath: string("The path to give the sender, on the controller's webhook port: /hook/<sha256 hex of token, name and namespace>."),
  });
}

export function receiverCustomResourceDefinition(): KubeObject {
  return crd({
    kind: RECEIVER_KIND,
    plural: RECEIVER_RESOURCE,
    shortNames: ["freceiver"],
    spec: receiverSpec(),
    status: receiverStatus(),
    columns: [{ name: "Type", type: "string", jsonPath: ".spec.type" }, { name: "Path", type: "string", jsonPath: ".status.webhookPath" }, ...readyColumns],
  });
}
