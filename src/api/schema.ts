/**
 * Building blocks of fjord's CRD schemas (structural OpenAPI with CEL rules), shared by the
 * GitOps kinds (crds.ts) and the image automation kinds (image-crds.ts).
 */
import type { KubeObject } from "../model/object.ts";
import { GROUP, RECONCILE_REQUEST_ANNOTATION, VERSION } from "./types.ts";

export type Schema = Record<string, unknown>;

export interface Rule {
  rule: string;
  message: string;
}

export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
export const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
export const DNS_SUBDOMAIN_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

export function object(properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema {
  return { type: "object", properties, ...(required.length > 0 ? { required } : {}), ...extra };
}

export function string(description: string, extra: Schema = {}): Schema {
  return { type: "string", description, ...extra };
}

export function withRules(schema: Schema, rules: Rule[]): Schema {
  return { ...schema, "x-kubernetes-validations": rules };
}

export const duration = (description: string, defaultValue?: string): Schema =>
  string(description, { pattern: DURATION_PATTERN, ...(defaultValue ? { default: defaultValue } : {}) });
export const name = (description: string): Schema => string(description, { minLength: 1, maxLength: 253 });
/** Secrets are read by name in the referring object's namespace; a name that is not one could spell a path elsewhere. */
export const secretName = (description: string): Schema => string(description, { pattern: DNS_SUBDOMAIN_PATTERN, maxLength: 253 });
export const namespace = (description: string): Schema => string(description, { pattern: DNS_LABEL_PATTERN, maxLength: 63 });
export const timestamp = (description: string): Schema => string(description, { format: "date-time" });
export const count = (description: string): Schema => ({ type: "integer", format: "int64", minimum: 0, description });

/** metav1.Condition, as controller-gen generates it. */
export const conditions: Schema = {
  type: "array",
  description: "Ready summarises; Reconciling and Stalled are set only while true (kstatus).",
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["type"],
  items: object(
    {
      type: string("Condition type, e.g. Ready.", { maxLength: 316, pattern: "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$" }),
      status: string("True, False or Unknown.", { enum: ["True", "False", "Unknown"] }),
      observedGeneration: count("The metadata.generation the condition was set for."),
      lastTransitionTime: timestamp("When the status last changed."),
      reason: string("CamelCase, machine-readable.", { minLength: 1, maxLength: 1024, pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$" }),
      message: string("Human-readable details.", { maxLength: 32768 }),
    },
    ["type", "status", "lastTransitionTime", "reason", "message"],
  ),
};

export const lastHandledReconcileAt = string(`The last ${RECONCILE_REQUEST_ANNOTATION} annotation value acted on.`);

export const readyColumns = [
  { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: "Status", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].message' },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

export interface Definition {
  kind: string;
  plural: string;
  shortNames: string[];
  spec: Schema;
  status: Schema;
  columns: Array<{ name: string; type: string; jsonPath: string }>;
  rootRules?: Rule[];
}

export function crd(definition: Definition): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${definition.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular: definition.kind.toLowerCase(),
        shortNames: definition.shortNames,
        categories: ["fjord"],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: definition.columns,
          schema: {
            openAPIV3Schema: object(
              {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: definition.spec,
                status: definition.status,
              },
              ["spec"],
              definition.rootRules ? { "x-kubernetes-validations": definition.rootRules } : {},
            ),
          },
        },
      ],
    },
  };
}
