/**
 * The requests a real KubeClient sends to the API server, as a test sees them: every call still
 * goes to the real client and the real server; the log only records what was asked and whether
 * a watch stream is still open. Tests use it to wait for a request to have happened (a watch to
 * be open) instead of sleeping, and to assert on what a component asked the API server for.
 */
import type { KubeClient, RequestOptions } from "../../src/kube/client.ts";

export interface LoggedRequest {
  method: string;
  path: string;
  query: RequestOptions["query"];
  /** A watch stream: true while it is open. */
  watch: boolean;
  open: boolean;
  /** A request (not a watch) answered with success. */
  answered: boolean;
}

export interface RequestLog {
  /** Hand this to the code under test. */
  client: KubeClient;
  requests: LoggedRequest[];
  /** Requests (GET, POST...) for `path`; WATCH for watch streams. */
  to(method: string, path: string): LoggedRequest[];
}

export function logRequests(real: KubeClient): RequestLog {
  const requests: LoggedRequest[] = [];
  const record = (method: string, path: string, query: RequestOptions["query"], watch: boolean) => {
    const entry: LoggedRequest = { method, path, query, watch, open: watch, answered: false };
    requests.push(entry);
    return entry;
  };
  const client = new Proxy(real, {
    get(target, property, receiver) {
      if (property === "requestWithStatus") {
        return async (method: string, path: string, options: RequestOptions = {}) => {
          const entry = record(method, path, options.query, false);
          const answer = await target.requestWithStatus(method, path, options);
          entry.answered = true;
          return answer;
        };
      }
      if (property === "request") {
        return async (method: string, path: string, options: RequestOptions = {}) => (await (receiver as KubeClient).requestWithStatus(method, path, options)).body;
      }
      if (property === "watch") {
        return async (...args: Parameters<KubeClient["watch"]>) => {
          const entry = record("WATCH", args[0], args[1], true);
          try {
            return await target.watch(...args);
          } finally {
            entry.open = false;
          }
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { client, requests, to: (method, path) => requests.filter((entry) => entry.method === method && entry.path === path) };
}
