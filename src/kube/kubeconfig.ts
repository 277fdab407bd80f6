/**
 * Kubeconfig files as kubectl reads them: a KUBECONFIG list merged (the first file to name a
 * cluster, user or context wins; so does the first current-context), paths relative to the
 * file that wrote them, `--context` selection. Pure: file contents in, the selected cluster
 * access out. Loading files and running exec plugins happens in cluster-access.ts.
 */
import path from "node:path";
import { describeYamlError, parseAllYamlDocuments } from "../input/yaml.ts";

export interface ExecConfig {
  apiVersion: string;
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  provideClusterInfo: boolean;
  installHint?: string;
}

/** Where a credential lives: inline data, or a file read when needed. */
export type Material = { data: Buffer } | { file: string };

export interface UserConfig {
  name: string;
  clientCertificate?: Material;
  clientKey?: Material;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  impersonate?: { user: string; groups: string[] };
}

export interface ClusterConfig {
  name: string;
  server: string;
  certificateAuthority?: Material;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
}

export interface SelectedContext {
  context: string;
  cluster: ClusterConfig;
  user: UserConfig;
  /** The context's namespace, undefined when it names none. */
  namespace?: string;
}

export class KubeconfigError extends Error {
  override name = "KubeconfigError";
}

interface NamedEntries {
  clusters: Map<string, ClusterConfig>;
  users: Map<string, UserConfig>;
  contexts: Map<string, { cluster: string; user: string; namespace?: string }>;
  currentContext?: string;
}

type Raw = Record<string, unknown>;

const isRecord = (value: unknown): value is Raw => typeof value === "object" && value !== null && !Array.isArray(value);

function text(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new KubeconfigError(`${where} must be a string`);
  return value;
}

function material(entry: Raw, dataKey: string, fileKey: string, dir: string, where: string): Material | undefined {
  const data = text(entry[dataKey], `${where}: ${dataKey}`);
  if (data) return { data: Buffer.from(data, "base64") };
  const file = text(entry[fileKey], `${where}: ${fileKey}`);
  return file ? { file: path.resolve(dir, file) } : undefined;
}

function named(list: unknown, field: string, source: string): { name: string; body: Raw }[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new KubeconfigError(`${source}: '${field}' must be a list`);
  return list.map((item, index) => {
    const inner = field.slice(0, -1);
    if (!isRecord(item) || typeof item.name !== "string" || !item.name) throw new KubeconfigError(`${source}: ${field}[${index}] needs a name`);
    const body = item[inner];
    if (!isRecord(body)) throw new KubeconfigError(`${source}: ${field} entry '${item.name}' has no '${inner}' map`);
    return { name: item.name, body };
  });
}

function execConfig(raw: unknown, dir: string, where: string): ExecConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) throw new KubeconfigError(`${where}: exec must be a map`);
  const command = text(raw.command, `${where}: exec.command`);
  if (!command) throw new KubeconfigError(`${where}: exec needs a command`);
  const apiVersion = text(raw.apiVersion, `${where}: exec.apiVersion`);
  if (!apiVersion) throw new KubeconfigError(`${where}: exec needs an apiVersion (client.authentication.k8s.io/v1 or v1beta1)`);
  const env = Array.isArray(raw.env) ? raw.env.filter(isRecord).map((item) => ({ name: text(item.name, `${where}: exec.env name`) ?? "", value: text(item.value, `${where}: exec.env value`) ?? "" })) : [];
  const installHint = text(raw.installHint, `${where}: exec.installHint`);
  return {
    apiVersion,
    // As client-go: a relative command with a path separator is relative to the kubeconfig file.
    command: command.includes("/") && !path.isAbsolute(command) ? path.resolve(dir, command) : command,
    args: Array.isArray(raw.args) ? raw.args.map(String) : [],
    env,
    provideClusterInfo: raw.provideClusterInfo === true,
    ...(installHint ? { installHint } : {}),
  };
}

function userConfig(name: string, body: Raw, dir: string, source: string): UserConfig {
  const where = `${source}: user '${name}'`;
  const provider = body["auth-provider"];
  let token = text(body.token, `${where}: token`);
  if (isRecord(provider)) {
    const providerName = text(provider.name, `${where}: auth-provider.name`) ?? "";
    const config = isRecord(provider.config) ? provider.config : {};
    if (providerName !== "oidc") {
      throw new KubeconfigError(
        `${where} uses the '${providerName}' auth-provider, which Kubernetes clients no longer support (removed in 1.26): switch the user to its exec plugin (gke-gcloud-auth-plugin for GKE, kubelogin for AKS)`,
      );
    }
    // The oidc provider's id-token is a bearer token; refreshing it is the exec plugins' job today.
    token ??= text(config["id-token"], `${where}: auth-provider.config.id-token`);
    if (!token) throw new KubeconfigError(`${where}: the oidc auth-provider has no id-token; log in with an OIDC exec plugin (kubectl oidc-login) instead`);
  }
  const username = text(body.username, `${where}: username`);
  const password = text(body.password, `${where}: password`);
  const tokenFile = text(body.tokenFile, `${where}: tokenFile`);
  const exec = execConfig(body.exec, dir, where);
  const clientCertificate = material(body, "client-certificate-data", "client-certificate", dir, where);
  const clientKey = material(body, "client-key-data", "client-key", dir, where);
  if (Boolean(clientCertificate) !== Boolean(clientKey)) throw new KubeconfigError(`${where} has a client certificate without its key (or a key without its certificate)`);
  const as = text(body.as, `${where}: as`);
  const groups = Array.isArray(body["as-groups"]) ? body["as-groups"].map(String) : [];
  return {
    name,
    ...(clientCertificate ? { clientCertificate } : {}),
    ...(clientKey ? { clientKey } : {}),
    ...(token ? { token } : {}),
    ...(tokenFile ? { tokenFile: path.resolve(dir, tokenFile) } : {}),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(exec ? { exec } : {}),
    ...(as ? { impersonate: { user: as, groups } } : {}),
  };
}

function clusterConfig(name: string, body: Raw, dir: string, source: string): ClusterConfig {
  const where = `${source}: cluster '${name}'`;
  const server = text(body.server, `${where}: server`);
  if (!server) throw new KubeconfigError(`${where} has no server address`);
  if (body["proxy-url"]) throw new KubeconfigError(`${where} sets proxy-url, which fjord does not support; reach the API server directly (or through a tunnel) instead`);
  const certificateAuthority = material(body, "certificate-authority-data", "certificate-authority", dir, where);
  const tlsServerName = text(body["tls-server-name"], `${where}: tls-server-name`);
  return {
    name,
    server: server.replace(/\/+$/, ""),
    ...(certificateAuthority ? { certificateAuthority } : {}),
    insecureSkipTlsVerify: body["insecure-skip-tls-verify"] === true,
    ...(tlsServerName ? { tlsServerName } : {}),
  };
}

/** One YAML document (kubectl reads only the first; more is refused as the yaml package did), within fjord's limits. */
function parseKubeconfig(text: string): unknown {
  const [first, second] = parseAllYamlDocuments(text);
  if (!first) return null;
  const error = first.errors[0];
  // Credentials live in this file: say what is wrong and where, never quote a piece of it.
  if (error) throw new Error(`${describeYamlError(error, false)} (line ${text.slice(0, error.pos[0]).split("\n").length})`);
  if (second) throw new Error("more than one YAML document");
  return first.toJS({ maxAliasCount: -1 });
}

/** Merges kubeconfig files in KUBECONFIG order: earlier files win, as with kubectl. */
export function mergeKubeconfigs(files: readonly { path: string; text: string }[]): NamedEntries {
  const merged: NamedEntries = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files) {
    let document: unknown;
    try {
      document = parseKubeconfig(file.text);
    } catch (error) {
      throw new KubeconfigError(`${file.path} is not valid YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
    if (document === null || document === undefined) continue;
    if (!isRecord(document)) throw new KubeconfigError(`${file.path} is not a kubeconfig (expected a map with clusters, users and contexts)`);
    const dir = path.dirname(path.resolve(file.path));
    for (const { name, body } of named(document.clusters, "clusters", file.path)) {
      if (!merged.clusters.has(name)) merged.clusters.set(name, clusterConfig(name, body, dir, file.path));
    }
    for (const { name, body } of named(document.users, "users", file.path)) {
      if (!merged.users.has(name)) merged.users.set(name, userConfig(name, body, dir, file.path));
    }
    for (const { name, body } of named(document.contexts, "contexts", file.path)) {
      if (merged.contexts.has(name)) continue;
      const namespace = text(body.namespace, `${file.path}: context '${name}': namespace`);
      const where = `${file.path}: context '${name}'`;
      merged.contexts.set(name, { cluster: text(body.cluster, `${where}: cluster`) ?? "", user: text(body.user, `${where}: user`) ?? "", ...(namespace ? { namespace } : {}) });
    }
    merged.currentContext ??= text(document["current-context"], `${file.path}: current-context`);
  }
  return merged;
}

/** The context to use: `--context` when given, else current-context. Errors name what exists. */
export function selectContext(entries: NamedEntries, requested: string | undefined, sources: string): SelectedContext {
  const name = requested ?? entries.currentContext;
  const available = [...entries.contexts.keys()].join(", ") || "none";
  if (!name) throw new KubeconfigError(`${sources} sets no current-context: pass --context (contexts: ${available})`);
  const context = entries.contexts.get(name);
  if (!context) throw new KubeconfigError(`context '${name}' is not in ${sources} (contexts: ${available})`);
  const cluster = entries.clusters.get(context.cluster);
  if (!cluster) throw new KubeconfigError(`context '${name}' refers to cluster '${context.cluster}', which ${sources} does not define`);
  // A context without a user is valid (anonymous access), as in kubectl.
  const user = context.user ? entries.users.get(context.user) : { name: "" };
  if (!user) throw new KubeconfigError(`context '${name}' refers to user '${context.user}', which ${sources} does not define`);
  return { context: name, cluster, user, ...(context.namespace ? { namespace: context.namespace } : {}) };
}
