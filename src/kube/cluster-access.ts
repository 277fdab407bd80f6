/**
 * How to reach and authenticate to the API server: the selected kubeconfig context (flag,
 * KUBECONFIG, ~/.kube/config) or the Pod's service account in-cluster, and the credentials it
 * names, read when first needed and refreshed when they expire (token files, exec plugins).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { formatBytes, MAX_KUBECONFIG_BYTES } from "../input/limits.ts";
import { FileTooLargeError, readBoundedTextSync } from "../input/read-file.ts";
import { KubeconfigError, mergeKubeconfigs, selectContext, type ClusterConfig, type ExecConfig, type Material, type UserConfig } from "./kubeconfig.ts";

export { KubeconfigError } from "./kubeconfig.ts";

/** TLS material and headers for one request; what node:https takes. */
export interface Connection {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
  headers: Record<string, string>;
}

export interface ClusterAccess {
  server: string;
  /** The kubeconfig context, or "in-cluster". */
  context: string;
  /** The context's namespace (in-cluster: the Pod's), undefined when none is named. */
  namespace?: string;
  /** Impersonation the kubeconfig user asks for (`as`, `as-groups`). */
  impersonate?: { user: string; groups: string[] };
  credentials: Credentials;
}

export interface LoadOptions {
  kubeconfig?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  /** Where a Pod's service account token, CA and namespace are mounted. */
  serviceAccountDir?: string;
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** client-go re-reads token files at most once a minute: projected tokens rotate well before they expire. */
const TOKEN_FILE_REREAD_MS = 60_000;
/** Ask an exec plugin again a little before its credential expires, not after a request failed. */
const EXPIRY_MARGIN_MS = 10_000;
const EXEC_TIMEOUT_MS = 60_000;

export function loadClusterAccess(options: LoadOptions = {}): ClusterAccess {
  const env = options.env ?? process.env;
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) throw new KubeconfigError(`kubeconfig ${options.kubeconfig} does not exist`);
    return fromFiles([options.kubeconfig], options.context);
  }
  if (env.KUBECONFIG) {
    const listed = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const files = listed.filter((file) => existsSync(file));
    if (files.length === 0) throw new KubeconfigError(`none of the files in KUBECONFIG exist (${listed.join(", ")}): fix KUBECONFIG or pass --kubeconfig`);
    return fromFiles(files, options.context);
  }
  const home = path.join(options.homeDir ?? os.homedir(), ".kube", "config");
  if (existsSync(home)) return fromFiles([home], options.context);
  const serviceAccountDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (env.KUBERNETES_SERVICE_HOST && existsSync(path.join(serviceAccountDir, "token"))) return inCluster(env, serviceAccountDir);
  throw new KubeconfigError(`no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ${home}, or run fjord in a Pod`);
}

/** Local and trusted, but a wrong path (a log file, /dev/zero) should fail at once, not fill memory. */
function readKubeconfig(file: string): string {
  try {
    return readBoundedTextSync(file, MAX_KUBECONFIG_BYTES);
  } catch (error) {
    if (error instanceof FileTooLargeError) throw new KubeconfigError(`${file} is ${formatBytes(error.size)}, too large for a kubeconfig (at most ${formatBytes(MAX_KUBECONFIG_BYTES)})`);
    throw error;
  }
}

function fromFiles(files: string[], context: string | undefined): ClusterAccess {
  const entries = mergeKubeconfigs(files.map((file) => ({ path: file, text: readKubeconfig(file) })));
  const selected = selectContext(entries, context, files.join(path.delimiter));
  return {
    server: selected.cluster.server,
    context: selected.context,
    ...(selected.namespace ? { namespace: selected.namespace } : {}),
    ...(selected.user.impersonate ? { impersonate: selected.user.impersonate } : {}),
    credentials: new Credentials(selected.cluster, selected.user),
  };
}

function inCluster(env: NodeJS.ProcessEnv, dir: string): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const namespaceFile = path.join(dir, "namespace");
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, "utf8").trim() : "";
  const cluster: ClusterConfig = { name: "in-cluster", server, certificateAuthority: { file: path.join(dir, "ca.crt") }, insecureSkipTlsVerify: false };
  return { server, context: "in-cluster", ...(namespace ? { namespace } : {}), credentials: new Credentials(cluster, { name: "service-account", tokenFile: path.join(dir, "token") }) };
}

function read(material: Material, what: string): Buffer {
  if ("data" in material) return material.data;
  try {
    return readFileSync(material.file);
  } catch (error) {
    throw new KubeconfigError(`cannot read the ${what} ${material.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

interface Cached {
  connection: Connection;
  /** Wall-clock time (exec plugins state expiry that way) after which it is read again; Infinity when static. */
  refreshAt: number;
}

/**
 * The credentials of one user on one cluster. Static ones are read once; a token file is
 * re-read every minute and an exec plugin is run again when its credential expires or the
 * server rejected it (`invalidate`). Concurrent requests share one read or one plugin run.
 */
export class Credentials {
  private current: Cached | undefined;
  private loading: Promise<Cached> | undefined;

  constructor(
    private readonly cluster: ClusterConfig,
    private readonly user: UserConfig,
  ) {}

  async connection(): Promise<Connection> {
    if (this.current && Date.now() < this.current.refreshAt) return this.current.connection;
    // A failed read is not kept: the next request tries again.
    this.loading ??= this.load()
      .then((loaded) => (this.current = loaded))
      .finally(() => (this.loading = undefined));
    return (await this.loading).connection;
  }

  /** The server answered 401: whatever was cached (an exec token, a token file) is read anew. */
  invalidate(): void {
    this.current = undefined;
  }

  private async load(): Promise<Cached> {
    const { cluster, user } = this;
    const connection: Connection = { rejectUnauthorized: !cluster.insecureSkipTlsVerify, headers: {} };
    if (cluster.certificateAuthority) connection.ca = read(cluster.certificateAuthority, `certificate authority of cluster '${cluster.name}'`);
    if (cluster.tlsServerName) connection.servername = cluster.tlsServerName;
    if (user.clientCertificate && user.clientKey) {
      connection.cert = read(user.clientCertificate, `client certificate of user '${user.name}'`);
      connection.key = read(user.clientKey, `client key of user '${user.name}'`);
    }
    let refreshAt = Number.POSITIVE_INFINITY;
    if (user.token) connection.headers.Authorization = `Bearer ${user.token}`;
    else if (user.tokenFile) {
      const token = read({ file: user.tokenFile }, `token file of user '${user.name}'`).toString("utf8").trim();
      connection.headers.Authorization = `Bearer ${token}`;
      refreshAt = Date.now() + TOKEN_FILE_REREAD_MS;
    } else if (user.username !== undefined || user.password !== undefined) {
      connection.headers.Authorization = `Basic ${Buffer.from(`${user.username ?? ""}:${user.password ?? ""}`).toString("base64")}`;
    }
    if (user.exec) {
      const credential = await runExecPlugin(user.exec, cluster, user.name);
      if (credential.token) connection.headers.Authorization = `Bearer ${credential.token}`;
      if (credential.cert && credential.key) {
        connection.cert = credential.cert;
        connection.key = credential.key;
      }
      refreshAt = credential.expiresAt === undefined ? refreshAt : credential.expiresAt - EXPIRY_MARGIN_MS;
    }
    return { connection, refreshAt };
  }
}

interface ExecCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  expiresAt?: number;
}

/** Runs a client.authentication.k8s.io exec plugin non-interactively, as kubectl does in a pipeline. */
async function runExecPlugin(exec: ExecConfig, cluster: ClusterConfig, userName: string): Promise<ExecCredential> {
  const spec: Record<string, unknown> = { interactive: false };
  if (exec.provideClusterInfo) {
    const ca = cluster.certificateAuthority ? read(cluster.certificateAuthority, `certificate authority of cluster '${cluster.name}'`).toString("base64") : undefined;
    spec.cluster = {
      server: cluster.server,
      ...(cluster.tlsServerName ? { "tls-server-name": cluster.tlsServerName } : {}),
      ...(cluster.insecureSkipTlsVerify ? { "insecure-skip-tls-verify": true } : {}),
      ...(ca ? { "certificate-authority-data": ca } : {}),
    };
  }
  const env = { ...process.env, ...Object.fromEntries(exec.env.map((item) => [item.name, item.value])), KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: exec.apiVersion, kind: "ExecCredential", spec }) };
  const plugin = `exec plugin '${exec.command}' of user '${userName}'`;
  const stdout = await new Promise<string>((resolve, reject) => {
    // stderr goes where kubectl sends it, to the user: plugins print login hints there.
    const child = spawn(exec.command, exec.args, { env, stdio: ["ignore", "pipe", "inherit"], timeout: EXEC_TIMEOUT_MS });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      const hint = exec.installHint ? `: ${exec.installHint.trim()}` : "";
      reject(new KubeconfigError(error.code === "ENOENT" ? `${plugin} was not found${hint}` : `${plugin} could not run: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      if (code === 0) resolve(Buffer.concat(chunks).toString("utf8"));
      else reject(new KubeconfigError(signal ? `${plugin} was stopped by ${signal} (timeout ${EXEC_TIMEOUT_MS / 1000} s)` : `${plugin} failed with exit code ${code}`));
    });
  });
  let answer: unknown;
  try {
    answer = JSON.parse(stdout);
  } catch {
    // Never quote the output: it may hold half a credential.
    throw new KubeconfigError(`${plugin} did not print an ExecCredential (its output is not JSON)`);
  }
  const record = answer as { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> };
  if (record.kind !== "ExecCredential" || record.apiVersion !== exec.apiVersion) {
    throw new KubeconfigError(`${plugin} answered ${String(record.kind)} ${String(record.apiVersion)}, expected ExecCredential ${exec.apiVersion}`);
  }
  const status = record.status ?? {};
  const token = typeof status.token === "string" && status.token ? status.token : undefined;
  const cert = typeof status.clientCertificateData === "string" ? Buffer.from(status.clientCertificateData) : undefined;
  const key = typeof status.clientKeyData === "string" ? Buffer.from(status.clientKeyData) : undefined;
  if (!token && !(cert && key)) throw new KubeconfigError(`${plugin} returned neither a token nor a client certificate and key`);
  const expiresAt = typeof status.expirationTimestamp === "string" ? Date.parse(status.expirationTimestamp) : Number.NaN;
  return { ...(token ? { token } : {}), ...(cert && key ? { cert, key } : {}), ...(Number.isNaN(expiresAt) ? {} : { expiresAt }) };
}
