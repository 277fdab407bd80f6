import { stringify } from "yaml";

export interface KubeconfigUser {
  name: string;
  certificatePem: string;
  privateKeyPem: string;
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** A self-contained kubeconfig (credentials embedded), so the file alone is enough to connect. */
export function renderKubeconfig(server: string, caPem: string, user: KubeconfigUser, contextName = "fjord-local"): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: contextName, cluster: { server, "certificate-authority-data": b64(caPem) } }],
    users: [{ name: user.name, user: { "client-certificate-data": b64(user.certificatePem), "client-key-data": b64(user.privateKeyPem) } }],
    contexts: [{ name: contextName, context: { cluster: contextName, user: user.name } }],
    "current-context": contextName,
    preferences: {},
  });
}
