import http from "node:http";
import https from "node:https";
import { loadClusterAccess, type ClusterAccess, type Connection } from "./cluster-access.ts";
import { KubeApiError, type Status } from "./errors.ts";

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/** Counts of requests by verb, split into persisted writes and dry runs (benchmarks report them). */
export interface RequestCounts {
  reads: number;
  writes: number;
  dryRunWrites: number;
}

export interface ClientOptions {
  /** Kubeconfig file; default: $KUBECONFIG or ~/.kube/config, or in-cluster. */
  kubeconfig?: string;
  context?: string;
  /** Apply as this user (Kubernetes impersonation). */
  impersonate?: { user: string; groups?: string[] };
  /** Parallel connections to the API server. */
  maxSockets?: number;
  userAgent?: string;
}

/**
 * A thin HTTP client for the Kubernetes API. Where and as whom come from the kubeconfig or
 * the Pod's service account (cluster-access.ts); requests go over one keep-alive agent, so
 * fjord controls concurrency and content types itself (server-side apply needs
 * `application/apply-patch+yaml`).
 */
export class KubeClient {
  readonly counts: RequestCounts = { reads: 0, writes: 0, dryRunWrites: 0 };
  readonly server: string;
  private readonly agent: https.Agent | http.Agent;

  private constructor(
    readonly access: ClusterAccess,
    private readonly options: ClientOptions,
    /** The parent's connections, for an impersonating client: impersonation is a per-request header. */
    private readonly sharedAgent?: https.Agent | http.Agent,
  ) {
    this.server = access.server;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 32 };
    this.agent = sharedAgent ?? (this.server.startsWith("https:") ? new https.Agent(agentOptions) : new http.Agent(agentOptions));
  }

  /** TLS material and auth headers for a request made outside this client (e.g. a service proxy stream). */
  connection(): Promise<Connection> {
    return this.access.credentials.connection();
  }

  static load(options: ClientOptions = {}): KubeClient {
    const access = loadClusterAccess({ ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}), ...(options.context ? { context: options.context } : {}) });
    return new KubeClient(access, options);
  }

  /**
   * A client for the same cluster acting as another user (e.g. an Application's ServiceAccount).
   * It shares this client's kept-alive connections, so a reconcile does not pay TLS handshakes.
   */
  impersonating(user: string, groups: string[] = []): KubeClient {
    return new KubeClient(this.access, { ...this.options, impersonate: { user, groups } }, this.agent);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.requestWithStatus<T>(method, path, options)).body;
  }

  /** Like request(), also returning the HTTP status (server-side apply answers 201 when it created). */
  async requestWithStatus<T>(method: string, path: string, options: RequestOptions = {}): Promise<{ statusCode: number; body: T }> {
    const response = await this.send(method, path, options);
    const text = await readBody(response);
    const statusCode = response.statusCode ?? 0;
    if (statusCode >= 400) throw KubeApiError.fromResponse(statusCode, text, method, path);
    return { statusCode, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /**
   * Streams watch events until the server closes the stream or `signal` aborts. Resolves
   * normally on close; callers re-list or resume from the last resourceVersion.
   */
  async watch<T>(path: string, query: RequestOptions["query"], onEvent: (event: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void> {
    const response = await this.send("GET", path, { query: { ...query, watch: true, allowWatchBookmarks: true }, ...(signal ? { signal } : {}) });
    if ((response.statusCode ?? 0) >= 400) {
      throw KubeApiError.fromResponse(response.statusCode ?? 0, await readBody(response), "WATCH", path);
    }
    response.setEncoding("utf8");
    let buffered = "";
    await new Promise<void>((resolve, reject) => {
      response.on("data", (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          const event = JSON.parse(line) as WatchEvent<T>;
          if (event.type === "ERROR") {
            const status = event.object as unknown as Status;
            response.destroy();
            reject(KubeApiError.fromStatus(status, "WATCH", path));
            return;
          }
          onEvent(event);
        }
      });
      response.on("end", resolve);
      response.on("close", resolve);
      response.on("error", (error) => (signal?.aborted ? resolve() : reject(error)));
    });
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    this.count(method, url);
    const headers: Record<string, string | string[]> = {
      Accept: options.accept ?? "application/json",
      "User-Agent": this.options.userAgent ?? "fjord",
    };
    const impersonate = this.options.impersonate ?? this.access.impersonate;
    if (impersonate) {
      headers["Impersonate-User"] = impersonate.user;
      if (impersonate.groups?.length) headers["Impersonate-Group"] = impersonate.groups;
    }
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
      headers["Content-Type"] = options.contentType ?? "application/json";
      // Without a length Node sends the body chunked; on kept-alive connections the API
      // server then answered the *next* request with a bare 400, so always send it.
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const { headers: authHeaders, ...tls } = await this.access.credentials.connection();
    const requestOptions: https.RequestOptions = {
      ...tls,
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: { ...authHeaders, ...headers },
      agent: this.agent,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(requestOptions, (response) => {
        // Rejected credentials (an expired exec token, a rotated token file) are read anew next time.
        if (response.statusCode === 401) this.access.credentials.invalidate();
        resolve(response);
      });
      request.on("error", reject);
      if (payload !== undefined) request.write(payload);
      request.end();
    });
  }

  private count(method: string, url: URL): void {
    if (method === "GET" || method === "HEAD") this.counts.reads++;
    else if (url.searchParams.get("dryRun") === "All") this.counts.dryRunWrites++;
    else this.counts.writes++;
  }

  /** Closes the connections; an impersonating client leaves its parent's open. */
  close(): void {
    if (!this.sharedAgent) this.agent.destroy();
  }
}

function readBody(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", reject);
  });
}
