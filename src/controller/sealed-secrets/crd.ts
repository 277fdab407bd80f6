/**
 * The bitnami.com/v1alpha1 SealedSecret CRD, with upstream's schema (controller-gen output of
 * pkg/apis/sealedsecrets/v1alpha1/types.go) and status subresource. Installed only when absent:
 * a cluster that already runs Bitnami's controller keeps its own definition.
 */
import { waitForEstablished } from "../../apply/crd-established.ts";
import type { KubeClient } from "../../kube/client.ts";
import { isNotFound, KubeApiError } from "../../kube/errors.ts";
import type { KubeObject } from "../../model/object.ts";
import { SEALED_SECRET_CRD_NAME, SEALED_SECRET_GROUP, SEALED_SECRET_KIND, SEALED_SECRET_RESOURCE, SEALED_SECRET_VERSION } from "../../secrets/sealed/types.ts";

const conditionSchema = {
  type: "object",
  required: ["status", "type"],
  properties: {
    type: { type: "string", description: 'Type of condition for a sealed secret. Valid value: "Synced"' },
    status: { type: "string", description: 'Status of the condition for a sealed secret. Valid values for "Synced": "True", "False", or "Unknown".' },
    lastTransitionTime: { type: "string", format: "date-time", description: "Last time the condition transitioned from one status to another." },
    lastUpdateTime: { type: "string", format: "date-time", description: "The last time this condition was updated." },
    reason: { type: "string", description: "The reason for the condition's last transition." },
    message: { type: "string", description: "A human readable message indicating details about the transition." },
  },
};

export function sealedSecretCrd(): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: SEALED_SECRET_CRD_NAME },
    spec: {
      group: SEALED_SECRET_GROUP,
      names: { kind: SEALED_SECRET_KIND, listKind: `${SEALED_SECRET_KIND}List`, plural: SEALED_SECRET_RESOURCE, singular: "sealedsecret" },
      scope: "Namespaced",
      versions: [
        {
          name: SEALED_SECRET_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Status", type: "string", jsonPath: ".status.conditions[0].message" },
            { name: "Synced", type: "string", jsonPath: ".status.conditions[0].status" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: 'SealedSecret is the K8s representation of a "sealed Secret" - a regular k8s Secret that has been sealed (encrypted) using the controller\'s key.',
              required: ["spec"],
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: {
                  type: "object",
                  required: ["encryptedData"],
                  properties: {
                    data: { type: "string", format: "byte", description: "Data is deprecated and will be removed eventually. Use per-value EncryptedData instead." },
                    encryptedData: { type: "object", additionalProperties: { type: "string" }, "x-kubernetes-preserve-unknown-fields": true },
                    template: {
                      type: "object",
                      description: "Template defines the structure of the Secret that will be created from this sealed secret.",
                      properties: {
                        data: { type: "object", nullable: true, additionalProperties: { type: "string" }, description: "Keys that should be templated using decrypted data" },
                        immutable: { type: "boolean", description: "Immutable, if set to true, ensures that data stored in the Secret cannot be updated." },
                        metadata: { type: "object", nullable: true, "x-kubernetes-preserve-unknown-fields": true },
                        type: { type: "string", description: "Used to facilitate programmatic handling of secret data." },
                      },
                    },
                  },
                },
                status: {
                  type: "object",
                  properties: {
                    conditions: { type: "array", items: conditionSchema },
                    observedGeneration: { type: "integer", format: "int64" },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

/** Creates the CRD when the cluster has none and waits until it is served. Returns whether it created it. */
export async function ensureSealedSecretCrd(client: KubeClient, timeoutMs = 60_000): Promise<boolean> {
  const path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
  let created = false;
  try {
    await client.request("GET", `${path}/${SEALED_SECRET_CRD_NAME}`);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await client.request("POST", path, { body: sealedSecretCrd() });
      created = true;
    } catch (createError) {
      // Another replica (or an install) won the race; theirs is as good.
      if (!(createError instanceof KubeApiError && createError.conflict)) throw createError;
    }
  }
  await waitForEstablished(client, [SEALED_SECRET_CRD_NAME], timeoutMs);
  return created;
}
