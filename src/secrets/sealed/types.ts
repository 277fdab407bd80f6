/** The shapes of bitnami.com/v1alpha1 SealedSecret and core/v1 Secret that sealing works on. */
import type { ObjectMeta } from "../../model/object.ts";

export const SEALED_SECRET_GROUP = "bitnami.com";
export const SEALED_SECRET_VERSION = "v1alpha1";
export const SEALED_SECRET_API_VERSION = `${SEALED_SECRET_GROUP}/${SEALED_SECRET_VERSION}`;
export const SEALED_SECRET_KIND = "SealedSecret";
export const SEALED_SECRET_RESOURCE = "sealedsecrets";
export const SEALED_SECRET_CRD_NAME = `${SEALED_SECRET_RESOURCE}.${SEALED_SECRET_GROUP}`;
/** The one condition type upstream's controller reports. */
export const SYNCED_CONDITION = "Synced";

export interface Secret {
  apiVersion: "v1";
  kind: "Secret";
  metadata: ObjectMeta;
  type?: string;
  immutable?: boolean;
  /** Base64 values, as the API carries them. */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

export interface SecretTemplate {
  metadata?: ObjectMeta;
  type?: string;
  immutable?: boolean;
  /** Plain values or Go-template expressions over the decrypted values; null removes a key. */
  data?: Record<string, string | null> | null;
}

export interface SealedSecretCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface SealedSecret {
  apiVersion: typeof SEALED_SECRET_API_VERSION;
  kind: typeof SEALED_SECRET_KIND;
  metadata: ObjectMeta;
  spec: {
    template?: SecretTemplate;
    /** Key -> base64 of kubeseal's hybrid ciphertext. */
    encryptedData: Record<string, string>;
    /** Upstream's deprecated single-blob format; refused, as upstream does by default. */
    data?: string;
  };
  status?: {
    observedGeneration?: number;
    conditions?: SealedSecretCondition[];
  };
}
