/** Sealing a Secret into a SealedSecret, in kubeseal's output shape (NewSealedSecret + Seal). */
import type { KeyObject } from "node:crypto";
import { hybridEncrypt } from "./hybrid.ts";
import { decodeBase64Strict, portableMetadata, sortedRecord } from "./objects.ts";
import { encryptionLabel, scopeOf, withScopeAnnotations, type SealingScope } from "./scope.ts";
import { SEALED_SECRET_API_VERSION, SEALED_SECRET_KIND, type SealedSecret, type Secret, type SecretTemplate } from "./types.ts";

export interface SealOptions {
  /** Overrides the scope annotations of the Secret; without it they decide (strict when absent). */
  scope?: SealingScope;
  /** For a Secret that names no namespace (kubeseal takes the kubeconfig's). */
  defaultNamespace?: string;
  /** kubeseal refuses a Secret without values unless asked (`--allow-empty-data`): it is usually a mistake. */
  allowEmptyData?: boolean;
}

export function sealSecret(input: Secret, publicKey: KeyObject, options: SealOptions = {}): SealedSecret {
  const metadata = portableMetadata(input.metadata);
  if (!metadata.name) throw new Error("the Secret has no metadata.name");
  const scope = options.scope ?? scopeOf(metadata.annotations);
  const annotations = withScopeAnnotations(metadata.annotations, scope);
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
  if (!metadata.namespace && scope !== "cluster-wide") {
    if (!options.defaultNamespace) throw new Error("the Secret has no metadata.namespace; give it one, pass a namespace, or seal it cluster-wide");
    metadata.namespace = options.defaultNamespace;
  }

  const values = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(input.data ?? {})) {
    const bytes = decodeBase64Strict(value);
    if (!bytes) throw new Error(`data.${key} is not valid base64`);
    values.set(key, bytes);
  }
  // stringData wins over data for the same key, as the API server does.
  for (const [key, value] of Object.entries(input.stringData ?? {})) values.set(key, Buffer.from(value, "utf8"));
  if (values.size === 0 && !options.allowEmptyData) throw new Error("the Secret has no data or stringData; allow empty data explicitly if that is intended");

  const label = encryptionLabel(metadata.namespace ?? "", metadata.name, scope);
  const encryptedData: Record<string, string> = {};
  for (const [key, value] of values) {
    encryptedData[key] = hybridEncrypt(publicKey, value, label).toString("base64");
    value.fill(0);
  }

  const template: SecretTemplate = { metadata };
  if (input.type) template.type = input.type;
  if (input.immutable !== undefined) template.immutable = input.immutable;
  const sealedAnnotations = withScopeAnnotations(undefined, scope);
  return {
    apiVersion: SEALED_SECRET_API_VERSION,
    kind: SEALED_SECRET_KIND,
    metadata: {
      name: metadata.name,
      ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
      ...(Object.keys(sealedAnnotations).length > 0 ? { annotations: sealedAnnotations } : {}),
    },
    spec: { template, encryptedData: sortedRecord(encryptedData) },
  };
}
