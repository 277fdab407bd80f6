import { API_VERSION, APPLICATION_KIND, GIT_REPOSITORY_KIND } from "../api/types.ts";
import type { GitAuth } from "../git/index.ts";
import type { KubeObject } from "../model/object.ts";
import { commonLabels } from "./options.ts";

export interface SyncManifestOptions {
  namespace: string;
  /** Name of the GitRepository, the Application and the credentials Secret. */
  name: string;
  url: string;
  branch: string;
  /** Directory inside the repository that the Application applies, e.g. `clusters/prod`. */
  path: string;
  interval: string;
  /** Set when the repository needs credentials: the Secret of that name (sourceSecret) holds them. */
  secretName?: string;
}

/** The GitRepository and the Application that make fjord apply `path`, itself included. */
export function syncManifests(options: SyncManifestOptions): KubeObject[] {
  const metadata = { name: options.name, namespace: options.namespace, labels: commonLabels() };
  return [
    {
      apiVersion: API_VERSION,
      kind: GIT_REPOSITORY_KIND,
      metadata,
      spec: {
        url: options.url,
        ref: { branch: options.branch },
        interval: options.interval,
        ...(options.secretName ? { secretRef: { name: options.secretName } } : {}),
      },
    },
    {
      apiVersion: API_VERSION,
      kind: APPLICATION_KIND,
      metadata,
      spec: {
        sourceRef: { kind: GIT_REPOSITORY_KIND, name: options.name },
        path: `./${options.path.replace(/^\.\/+/, "").replace(/\/+$/, "")}`,
        interval: "10m",
        // Pruning is what makes "delete the file" uninstall something, fjord's own objects included.
        prune: true,
      },
    },
  ];
}

/** The GitRepository's credentials, with Flux's key names (src/controller/source-credentials.ts reads them). */
export function sourceSecret(namespace: string, name: string, auth: GitAuth): KubeObject {
  const values: Record<string, string> =
    auth.kind === "ssh"
      ? { identity: auth.privateKey, known_hosts: auth.knownHosts }
      : auth.kind === "token"
        ? { bearerToken: auth.token, ...(auth.username ? { username: auth.username } : {}) }
        : { username: auth.username, password: auth.password };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace, labels: commonLabels() },
    type: "Opaque",
    data: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, Buffer.from(value, "utf8").toString("base64")])),
  };
}
