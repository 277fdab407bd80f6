import { randomBytes } from "node:crypto";
import os from "node:os";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import type { Logger } from "../util/logger.ts";

/** `source.component` and `reportingComponent` of every Event fjord writes; `fjord events` filters on it. */
export const EVENT_COMPONENT = "fjord-controller";

export type EventType = "Normal" | "Warning";

export interface EventSubject {
  apiVersion: string;
  kind: string;
  name: string;
  /** Empty for cluster-scoped objects, whose Events go to `default` as kubectl expects. */
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
  lastSeen: number;
}

/** Repeats of the same event within this window bump its count instead of creating another. */
const AGGREGATION_WINDOW_MS = 10 * 60_000;
/** Bounded memory: the oldest aggregation entries are forgotten first. */
const MAX_TRACKED = 4096;
/** The API server refuses longer messages. */
const MAX_MESSAGE = 1024;

/**
 * Writes core/v1 Events about fjord objects, as client-go's recorder does: a repeat of the
 * same (object, type, reason, message) bumps `count` and `lastTimestamp` instead of adding a
 * new Event. Callers decide what is worth an Event (fjord emits one only when something
 * changed). Failures to write are logged and never fail a reconcile.
 */
export class EventRecorder {
  private readonly recorded = new Map<string, Recorded>();
  private readonly host = os.hostname();

  constructor(
    private readonly client: KubeClient,
    private readonly logger?: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(subject: EventSubject, type: EventType, reason: string, message: string): Promise<void> {
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
    const namespace = subject.namespace || "default";
    const key = JSON.stringify([subject.apiVersion, subject.kind, namespace, subject.name, subject.uid ?? "", type, reason, text]);
    const at = this.now();
    const timestamp = at.toISOString().replace(/\.\d+Z$/, "Z");
    try {
      const previous = this.recorded.get(key);
      if (previous && at.getTime() - previous.lastSeen < AGGREGATION_WINDOW_MS) {
        previous.count++;
        previous.lastSeen = at.getTime();
        const patched = await this.client
          .request("PATCH", `/api/v1/namespaces/${previous.namespace}/events/${previous.name}`, {
            body: { count: previous.count, lastTimestamp: timestamp },
            contentType: "application/merge-patch+json",
          })
          .then(
            () => true,
            (error: unknown) => {
              if (isNotFound(error)) return false;
              throw error;
            },
          );
        if (patched) return;
      }
      const name = `${subject.name}.${at.getTime().toString(16)}${randomBytes(2).toString("hex")}`;
      await this.client.request("POST", `/api/v1/namespaces/${namespace}/events`, {
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: subject.apiVersion,
            kind: subject.kind,
            name: subject.name,
            ...(subject.namespace ? { namespace: subject.namespace } : {}),
            ...(subject.uid ? { uid: subject.uid } : {}),
            ...(subject.resourceVersion ? { resourceVersion: subject.resourceVersion } : {}),
          },
          type,
          reason,
          message: text,
          count: 1,
          firstTimestamp: timestamp,
          lastTimestamp: timestamp,
          source: { component: EVENT_COMPONENT, host: this.host },
          reportingComponent: EVENT_COMPONENT,
          reportingInstance: this.host,
        },
      });
      this.recorded.delete(key);
      this.recorded.set(key, { name, namespace, count: 1, lastSeen: at.getTime() });
      if (this.recorded.size > MAX_TRACKED) this.recorded.delete(this.recorded.keys().next().value as string);
    } catch (error) {
      this.logger?.warn({ reason, object: `${subject.kind}/${namespace}/${subject.name}`, error: error instanceof Error ? error.message : String(error) }, "could not record an Event");
    }
  }
}
