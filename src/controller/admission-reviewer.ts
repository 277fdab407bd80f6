import { decide, type AdmissionMode, type ChangeRecord, type FieldSet, type ManagedTarget } from "../admission/decision.ts";
import { RecentChanges } from "../admission/recent-changes.ts";
import type { AdmissionRequest } from "../admission/review.ts";
import { API_VERSION, APPLICATION_KIND, type Application } from "../api/types.ts";
import { FIELD_MANAGER } from "../model/ownership.ts";
import { describeRef, type KubeObject } from "../model/object.ts";
import type { Logger } from "../util/logger.ts";
import { DELETED_BY_SOMEONE, type DriftEvent, type ManagedObject } from "./drift-watch.ts";
import type { EventRecorder } from "./events.ts";

export interface AdmissionSettings {
  mode: AdmissionMode;
  /** Members of these groups may change managed objects in lock mode (recorded, then reverted or kept per selfHeal). */
  breakGlassGroups: readonly string[];
  /** The user the API server authenticates the controller as. */
  controllerUser: string;
}

export interface AdmissionReviewerDeps {
  settings: AdmissionSettings;
  events: EventRecorder;
  logger: Logger;
  /** The object, when an Application manages it (from the shared drift watches). */
  managedObject: (group: string, resource: string, namespace: string, name: string) => ManagedObject | undefined;
  application: (namespace: string, name: string) => Application | undefined;
  /** Where the Application's source lives (URL without credentials). */
  repository: (app: Application) => string;
  /** The user the Application applies as (its ServiceAccount), undefined for the controller itself. */
  applyUser: (app: Application) => string | undefined;
  recent?: RecentChanges;
  /**
   * A change admitted under fjord's own field manager (`--field-manager=fjord`) by someone else:
   * the drift watches take fjord's manager for fjord and would never see it, so the webhook
   * reports it as drift itself.
   */
  onDisguisedChange: (owner: { namespace: string; name: string }, event: DriftEvent) => void;
}

/** fjord's fields of a live object: its Apply entry in managedFields (undefined: unknown). */
function fjordFields(live: KubeObject | undefined): FieldSet | undefined {
  const entries = (live?.metadata.managedFields as { manager?: string; operation?: string; subresource?: string; fieldsV1?: FieldSet }[] | undefined) ?? [];
  const own = entries.filter((entry) => entry.manager === FIELD_MANAGER && entry.operation === "Apply" && !entry.subresource);
  return own.length === 1 ? own[0]?.fieldsV1 : undefined;
}

const describeFields = (record: ChangeRecord) => (record.fields.length ? ` (${record.fields.join(", ")})` : "");
const describeUser = (record: ChangeRecord) => `${record.user}${record.groups.length ? ` [groups ${record.groups.join(", ")}]` : ""}`;

/**
 * The controller's side of the admission webhook: finds the Application that manages the
 * object, decides (src/admission/decision.ts), remembers who changed what so the drift revert
 * that follows names the person, and reports denials and break-glass changes as an Event on the
 * Application and a structured log line. Everything is answered from memory.
 */
export class AdmissionReviewer {
  private readonly recent: RecentChanges;

  constructor(private readonly deps: AdmissionReviewerDeps) {
    this.recent = deps.recent ?? new RecentChanges();
  }

  review(request: AdmissionRequest): { allowed: boolean; message?: string } {
    const target = this.target(request);
    const decision = decide({ request, target, ...this.deps.settings });
    if (!("record" in decision)) return { allowed: true };
    const { record } = decision;
    const app = this.deps.application(record.application.namespace, record.application.name);
    const fields = { application: `${record.application.namespace}/${record.application.name}`, object: record.object, operation: record.operation, user: record.user, groups: record.groups, fieldManager: record.fieldManager, fields: record.fields, dryRun: request.dryRun };
    if (!decision.allowed) {
      this.deps.logger.warn({ ...fields, decision: "denied" }, "admission lock denied a change to a managed object");
      if (!request.dryRun) this.event(app, "Warning", "ChangeDenied", `${request.operation} of ${record.object}${describeFields(record)} by ${describeUser(record)} was denied: admission lock`);
      return { allowed: false, message: decision.message };
    }
    this.deps.logger.info({ ...fields, decision: decision.why }, "admitted a change to a managed object");
    if (request.dryRun) return { allowed: true };
    if (record.fieldManager === FIELD_MANAGER) {
      this.deps.logger.warn({ ...fields, decision: decision.why }, "a change to a managed object named fjord's field manager; reverting it as drift");
      this.deps.onDisguisedChange(record.application, { object: record.object, changedBy: record.user, fieldManager: FIELD_MANAGER, at: new Date().toISOString() });
    } else {
      this.recent.remember(record);
    }
    if (decision.why === "break-glass") {
      const kept = app?.spec.selfHeal === false ? "selfHeal is off, so it stays until the next sync" : "selfHeal is on, so fjord reverts it";
      this.event(app, "Warning", "BreakGlassChange", `${request.operation} of ${record.object}${describeFields(record)} by ${describeUser(record)} went through as break-glass; ${kept}`);
    }
    return { allowed: true };
  }

  /** The drift event with the person who made the change, when the webhook admitted it. */
  attribute(event: DriftEvent): DriftEvent {
    const deleted = event.changedBy === DELETED_BY_SOMEONE;
    const change = this.recent.take({ object: event.object, deleted, ...(deleted ? {} : { fieldManager: event.changedBy }) });
    if (!change) return event;
    if (deleted) return { ...event, changedBy: `deleted by ${change.user}` };
    return { ...event, changedBy: change.user, fieldManager: event.changedBy };
  }

  private target(request: AdmissionRequest): ManagedTarget | undefined {
    if (!request.name) return undefined;
    const found = this.deps.managedObject(request.resource.group, request.resource.resource, request.namespace, request.name);
    if (!found) return undefined;
    const app = this.deps.application(found.owner.namespace, found.owner.name);
    if (!app) return undefined;
    const applyUser = this.deps.applyUser(app);
    const ownedFields = fjordFields(found.live);
    return {
      object: describeRef(found.ref),
      application: { namespace: found.owner.namespace, name: found.owner.name },
      repository: this.deps.repository(app),
      path: app.spec.path,
      ...(applyUser ? { applyUser } : {}),
      ...(ownedFields ? { ownedFields } : {}),
    };
  }

  private event(app: Application | undefined, type: "Normal" | "Warning", reason: string, message: string): void {
    if (!app) return;
    const subject = { apiVersion: API_VERSION, kind: APPLICATION_KIND, name: app.metadata.name, namespace: app.metadata.namespace, ...(app.metadata.uid ? { uid: app.metadata.uid } : {}) };
    void this.deps.events.record(subject, type, reason, message);
  }
}
