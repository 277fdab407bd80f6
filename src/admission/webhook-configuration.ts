/**
 * The ValidatingWebhookConfiguration that sends changes of fjord-managed objects to the
 * controller. Two webhooks, because the API server matches an objectSelector against the
 * object in the request, and a write through the scale subresource (`kubectl scale`, an HPA)
 * carries a Scale object without the Deployment's labels:
 *   - objects.admission.fjord.dev: CREATE, UPDATE, DELETE of every resource (no subresource),
 *     for objects carrying fjord's owner label;
 *   - scale.admission.fjord.dev: UPDATE of every `*\/scale` subresource, whatever its labels
 *     (the controller answers "not managed" at once for objects it does not manage).
 * Status subresources are never sent. The matchConditions (CEL, evaluated by the API server)
 * keep fjord's own ServiceAccount and Kubernetes' controllers and nodes from ever waiting on
 * the webhook; the webhook's own logic also allows them, and the ServiceAccounts fjord applies
 * tenants' objects as (decision.ts).
 */
import type { KubeObject } from "../model/object.ts";
import { OWNER_NAME_LABEL } from "../model/ownership.ts";
import type { AdmissionMode } from "./decision.ts";

/** The path the controller serves AdmissionReviews on. */
export const ADMISSION_PATH = "/validate";
export const DEFAULT_WEBHOOK_CONFIGURATION_NAME = "fjord-admission";
/** The API server waits at most this long; the controller answers from memory in well under it. */
export const ADMISSION_TIMEOUT_SECONDS = 5;

export type WebhookClientConfig = { service: { namespace: string; name: string; port: number } } | { url: string };

export interface WebhookConfigurationOptions {
  name: string;
  mode: AdmissionMode;
  clientConfig: WebhookClientConfig;
  /** fjord's controller user (`system:serviceaccount:<ns>:fjord-controller`). */
  controllerUser: string;
  /** Limits the webhooks to some namespaces (tests keep their webhook to their own namespace). */
  namespaceSelector?: Record<string, unknown>;
  labels?: Record<string, string>;
}

/** CEL string literal (names here are DNS names and `system:` users; quoting keeps anything else inert). */
const celString = (value: string) => JSON.stringify(value);

/** The exact exemptions, as the API server evaluates them before calling the webhook. */
export function matchConditions(controllerUser: string): { name: string; expression: string }[] {
  return [
    { name: "not-fjord", expression: `request.userInfo.username != ${celString(controllerUser)}` },
    {
      name: "not-kubernetes-controllers",
      expression:
        "!(request.userInfo.username.startsWith('system:serviceaccount:kube-system:') || request.userInfo.username in ['system:kube-controller-manager', 'system:kube-scheduler', 'system:apiserver'] || request.userInfo.username.startsWith('system:node:'))",
    },
    { name: "not-nodes", expression: "!has(request.userInfo.groups) || !('system:nodes' in request.userInfo.groups)" },
  ];
}

export function webhookConfiguration(options: WebhookConfigurationOptions): KubeObject {
  // A fresh copy per webhook: shared objects would print as YAML anchors and aliases.
  const common = () => ({
    clientConfig: "url" in options.clientConfig ? { url: options.clientConfig.url } : { service: { ...options.clientConfig.service, path: ADMISSION_PATH } },
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    timeoutSeconds: ADMISSION_TIMEOUT_SECONDS,
    // observe must never stop a change; lock must not let one through because fjord was not asked.
    failurePolicy: options.mode === "observe" ? "Ignore" : "Fail",
    matchPolicy: "Equivalent",
    matchConditions: matchConditions(options.controllerUser),
    ...(options.namespaceSelector ? { namespaceSelector: structuredClone(options.namespaceSelector) } : {}),
  });
  const operations = ["CREATE", "UPDATE", "DELETE"];
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: options.name, ...(options.labels ? { labels: options.labels } : {}), annotations: { "fjord.dev/admission-mode": options.mode } },
    webhooks: [
      {
        name: "objects.admission.fjord.dev",
        ...common(),
        rules: [{ apiGroups: ["*"], apiVersions: ["*"], resources: ["*"], operations, scope: "*" }],
        objectSelector: { matchExpressions: [{ key: OWNER_NAME_LABEL, operator: "Exists" }] },
      },
      {
        name: "scale.admission.fjord.dev",
        ...common(),
        rules: [{ apiGroups: ["*"], apiVersions: ["*"], resources: ["*/scale"], operations: ["UPDATE"], scope: "*" }],
      },
    ],
  };
}
