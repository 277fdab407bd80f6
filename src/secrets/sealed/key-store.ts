/**
 * Sealing keys as Secrets in the controller's namespace, in upstream's convention (type
 * kubernetes.io/tls, label sealedsecrets.bitnami.com/sealed-secrets-key=active, generateName
 * sealed-secrets-key), so keys move between fjord and Bitnami's controller with kubectl.
 */
import type { KubeClient } from "../../kube/client.ts";
import { generateSealingKey } from "./certificate.ts";
import { sealingKeyFromSecret, type SealingKey } from "./keyring.ts";
import type { Secret } from "./types.ts";

export const SEALING_KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key";
export const SEALING_KEY_PREFIX = "sealed-secrets-key";

export interface LoadedKeys {
  keys: SealingKey[];
  /** Labelled Secrets that hold no usable key (named so an operator can look). */
  unreadable: Array<{ name: string; problem: string }>;
}

export async function loadSealingKeys(client: KubeClient, namespace: string, signal?: AbortSignal): Promise<LoadedKeys> {
  const list = await client.request<{ items?: Secret[] }>("GET", `/api/v1/namespaces/${namespace}/secrets`, {
    query: { labelSelector: `${SEALING_KEY_LABEL}=active` },
    ...(signal ? { signal } : {}),
  });
  const result: LoadedKeys = { keys: [], unreadable: [] };
  for (const secret of list.items ?? []) {
    try {
      result.keys.push(sealingKeyFromSecret({ ...secret, metadata: { ...secret.metadata, namespace } }));
    } catch (error) {
      result.unreadable.push({ name: secret.metadata.name ?? "", problem: error instanceof Error ? error.message : String(error) });
    }
  }
  return result;
}

export async function createSealingKey(client: KubeClient, namespace: string, options: { keySize?: number; validForMs?: number } = {}): Promise<SealingKey> {
  const generated = await generateSealingKey(options);
  const body: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { generateName: SEALING_KEY_PREFIX, namespace, labels: { [SEALING_KEY_LABEL]: "active" } },
    type: "kubernetes.io/tls",
    data: {
      "tls.key": Buffer.from(generated.privateKeyPem).toString("base64"),
      "tls.crt": Buffer.from(generated.certificatePem).toString("base64"),
    },
  };
  const created = await client.request<Secret>("POST", `/api/v1/namespaces/${namespace}/secrets`, { body });
  return sealingKeyFromSecret({ ...created, metadata: { ...created.metadata, namespace } });
}
