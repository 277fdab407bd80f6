import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { describeRef, refOf, type KubeObject } from "../model/object.ts";
import { evaluateHealth, notFound } from "./evaluate.ts";
import type { HealthStatus } from "./status.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures");

interface Case {
  /** `<kind>/<state>` under fixtures/, without `.yaml`. */
  fixture: string;
  status: HealthStatus;
  /** What the message must say besides the object's name: the reason a person acts on. */
  says: RegExp;
}

// Within each kind, neighbouring rows expect different statuses, so a rule that collapses
// two states into one fails at least one row.
const CASES: Case[] = [
  { fixture: "deployment/available", status: "Current", says: /3 of 3 replicas available/ },
  { fixture: "deployment/rolling", status: "InProgress", says: /1 of 3 replicas updated \(rollout in progress\)/ },
  { fixture: "deployment/progress-deadline", status: "Failed", says: /0 of 2 replicas available; rollout exceeded its progress deadline \(ProgressDeadlineExceeded\): ReplicaSet "api-799847f6b" has timed out/ },
  { fixture: "deployment/old-replicas-terminating", status: "InProgress", says: /1 old replica pending termination/ },
  { fixture: "deployment/paused", status: "Current", says: /rollout paused \(spec\.paused\); 1 of 3 replicas updated/ },
  { fixture: "deployment/old-generation", status: "InProgress", says: /has not observed generation 3 yet \(last observed 2\)/ },
  { fixture: "deployment/terminating", status: "Terminating", says: /being deleted since 2026-11-22T03:25:10Z; waiting for finalizers foregroundDeletion/ },

  { fixture: "statefulset/ready", status: "Current", says: /3 of 3 replicas ready on revision db-54c66cf49c/ },
  { fixture: "statefulset/rolling", status: "InProgress", says: /2 of 3 replicas ready/ },
  { fixture: "statefulset/partitioned", status: "Current", says: /partitioned rollout complete: 1 of 3 replicas on revision db-6975c9664b.*partition 2/ },
  { fixture: "statefulset/partition-rolling", status: "InProgress", says: /partitioned rollout: 1 of 2 replicas updated to revision db-6975c9664b \(partition 1\)/ },
  { fixture: "statefulset/on-delete", status: "Current", says: /OnDelete update strategy, 0 on revision db-6975c9664b/ },

  { fixture: "daemonset/available", status: "Current", says: /2 of 2 pods available/ },
  { fixture: "daemonset/rolling", status: "InProgress", says: /1 of 2 pods updated/ },

  { fixture: "replicaset/available", status: "Current", says: /3 of 3 replicas available/ },
  { fixture: "replicaset/replica-failure", status: "InProgress", says: /1 of 3 replicas created; pods cannot be created \(FailedCreate\): .*exceeded quota/ },
  { fixture: "replicationcontroller/available", status: "Current", says: /3 of 3 replicas available/ },
  { fixture: "replicationcontroller/scaling-up", status: "InProgress", says: /3 of 5 replicas ready/ },

  { fixture: "job/complete", status: "Current", says: /job complete: 1 of 1 succeeded/ },
  { fixture: "job/failed", status: "Failed", says: /job failed \(DeadlineExceeded\): Job was active longer than specified deadline; 0 active, 0 of 1 succeeded, 1 failed/ },
  { fixture: "job/running", status: "InProgress", says: /job running: 2 active, 0 of 4 succeeded, 0 failed/ },
  { fixture: "job/suspended", status: "Current", says: /job suspended \(spec\.suspend\)/ },
  { fixture: "job/failure-target", status: "Failed", says: /\(BackoffLimitExceeded\): Job has reached the specified backoff limit/ },

  { fixture: "cronjob/scheduled", status: "Current", says: /schedule "0 3 \* \* \*"; not scheduled yet/ },
  { fixture: "cronjob/terminating", status: "Terminating", says: /being deleted since 2026-11-22T03:30:00Z/ },

  { fixture: "pod/running", status: "Current", says: /running and ready/ },
  { fixture: "pod/crashloop", status: "Failed", says: /container web is in CrashLoopBackOff \(last exit code 1\): back-off 5m0s/ },
  { fixture: "pod/unschedulable", status: "InProgress", says: /cannot be scheduled yet \(Unschedulable\): 0\/2 nodes are available/ },
  { fixture: "pod/succeeded", status: "Current", says: /completed successfully/ },
  { fixture: "pod/failed", status: "Failed", says: /container restore exited with code 2 \(Error\)/ },
  { fixture: "pod/not-ready", status: "InProgress", says: /running but not ready \(ContainersNotReady\): containers with unready status: \[web\]/ },
  { fixture: "pod/image-pull-backoff", status: "Failed", says: /container web is in ImagePullBackOff: Back-off pulling image "registry\.example\/shop\/web:1\.5\.0"/ },
  { fixture: "pod/config-missing", status: "InProgress", says: /container web is in CreateContainerConfigError: secret "web-credentials" not found/ },
  { fixture: "pod/node-lost", status: "Unknown", says: /its node stopped reporting \(NodeLost\)/ },

  { fixture: "pvc/bound", status: "Current", says: /bound to volume pvc-a0db6d77/ },
  { fixture: "pvc/pending", status: "InProgress", says: /PVC phase Pending/ },
  { fixture: "pvc/lost", status: "Failed", says: /PVC phase Lost: volume pvc-a0db6d77-e7d3-46e0-8438-913ab75722c3 no longer exists/ },

  { fixture: "service/cluster-ip", status: "Current", says: /Service type ClusterIP/ },
  { fixture: "service/lb-pending", status: "InProgress", says: /waiting for a load balancer address/ },
  { fixture: "service/lb-ready", status: "Current", says: /load balancer at 203\.0\.113\.24/ },

  { fixture: "crd/established", status: "Current", says: /established; serving widgets\.example\.com/ },
  { fixture: "crd/installing", status: "InProgress", says: /waiting for the API server to establish it \(Installing\)/ },
  { fixture: "crd/names-conflict", status: "Failed", says: /names not accepted \(ShortNamesConflict\): "wd" is already in use/ },

  { fixture: "namespace/active", status: "Current", says: /namespace active/ },
  { fixture: "namespace/terminating", status: "Terminating", says: /NamespaceFinalizersRemaining \(SomeFinalizersRemain\): .*example\.com\/cleanup/ },

  { fixture: "pdb/healthy", status: "Current", says: /3 pods healthy, 2 required; 1 disruption allowed/ },
  { fixture: "pdb/insufficient", status: "InProgress", says: /0 of 1 required pods healthy \(2 pods selected\)/ },

  { fixture: "configmap/exists", status: "Current", says: /no readiness to wait for/ },
  { fixture: "configmap/terminating", status: "Terminating", says: /waiting for finalizers example\.com\/config-snapshot/ },

  { fixture: "certificate/issuing", status: "InProgress", says: /not ready \(DoesNotExist\): Issuing certificate as Secret does not exist/ },
  { fixture: "certificate/ready", status: "Current", says: /ready \(Ready\): Certificate is up to date/ },
  { fixture: "certificate/stale-ready", status: "InProgress", says: /generation 2 yet \(its Ready condition is from generation 1\)/ },

  { fixture: "helmrelease/ready", status: "Current", says: /Helm install succeeded/ },
  { fixture: "helmrelease/reconciling", status: "InProgress", says: /reconciling \(Progressing\): Running 'upgrade' action/ },
  { fixture: "helmrelease/stalled", status: "Failed", says: /stalled \(RetriesExceeded\): Failed to install after 1 attempt/ },
  { fixture: "helmrelease/old-generation", status: "InProgress", says: /has not observed generation 3 yet \(last observed 2\)/ },
];

function loadFixture(fixture: string): KubeObject {
  return parse(readFileSync(path.join(FIXTURES, `${fixture}.yaml`), "utf8")) as KubeObject;
}

function fixturesOnDisk(): string[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((kind) => readdirSync(path.join(FIXTURES, kind.name)).map((file) => `${kind.name}/${file.replace(/\.yaml$/, "")}`))
    .sort();
}

describe("evaluateHealth on live objects", () => {
  for (const { fixture, status, says } of CASES) {
    test(`${fixture} is ${status}`, () => {
      const object = loadFixture(fixture);
      const health = evaluateHealth(object);
      assert.equal(health.status, status, health.message);
      assert.ok(health.message.startsWith(`${describeRef(refOf(object))}: `), `message names the object: ${health.message}`);
      assert.match(health.message, says);
    });
  }
});

describe("the fixture table", () => {
  test("covers every fixture file exactly once", () => {
    const listed = CASES.map((row) => row.fixture).sort();
    assert.deepEqual(listed, [...new Set(listed)], "no fixture listed twice");
    assert.deepEqual(listed, fixturesOnDisk());
  });

  test("no row expects the same status as the row before it for the same kind", () => {
    for (const [index, row] of CASES.entries()) {
      const previous = CASES[index - 1];
      if (!previous || previous.fixture.split("/")[0] !== row.fixture.split("/")[0]) continue;
      assert.notEqual(row.status, previous.status, `${previous.fixture} and ${row.fixture}`);
    }
  });
});

describe("evaluateHealth edge cases", () => {
  test("a missing object is NotFound, and notFound() names it", () => {
    assert.equal(evaluateHealth(undefined).status, "NotFound");
    const health = notFound({ group: "apps", kind: "Deployment", namespace: "shop", name: "web" });
    assert.deepEqual(health, { status: "NotFound", message: "Deployment.apps/shop/web: not found in the cluster" });
  });

  test("a Deployment the controller has not reported on yet is InProgress, not Current", () => {
    const deployment = loadFixture("deployment/available");
    delete deployment.status;
    const health = evaluateHealth(deployment);
    assert.equal(health.status, "InProgress");
    assert.match(health.message, /not reported status yet/);
  });

  test("a Deployment scaled to zero is Current", () => {
    const deployment = loadFixture("deployment/available");
    deployment.spec = { ...(deployment.spec as object), replicas: 0 };
    deployment.status = { observedGeneration: 1 };
    assert.deepEqual(evaluateHealth(deployment), { status: "Current", message: "Deployment.apps/shop/web: scaled to zero" });
  });

  test("Stalled wins over Reconciling whatever order the controller listed them in", () => {
    const release = loadFixture("helmrelease/stalled");
    const status = release.status as { conditions: unknown[] };
    status.conditions.reverse();
    status.conditions.push({ type: "Reconciling", status: "True", reason: "Progressing" });
    assert.equal(evaluateHealth(release).status, "Failed");
  });

  test("a stale Stalled condition does not fail a newer generation", () => {
    const release = loadFixture("helmrelease/stalled");
    release.metadata.generation = 3;
    (release.status as { observedGeneration?: number }).observedGeneration = undefined;
    const health = evaluateHealth(release);
    assert.equal(health.status, "InProgress");
    assert.match(health.message, /its Stalled condition is from generation 2/);
  });

  test("malformed status fields read as not reported instead of throwing", () => {
    const deployment = loadFixture("deployment/available");
    deployment.status = { observedGeneration: 1, replicas: "3", conditions: "broken" };
    assert.equal(evaluateHealth(deployment).status, "InProgress");
    const pod = loadFixture("pod/running");
    pod.status = { phase: "Running", conditions: [null, 42, { type: "Ready" }], containerStatuses: {} };
    assert.equal(evaluateHealth(pod).status, "InProgress");
  });

  test("an init container stuck pulling its image fails the pod", () => {
    const pod = loadFixture("pod/unschedulable");
    pod.status = {
      phase: "Pending",
      initContainerStatuses: [{ name: "migrate", state: { waiting: { reason: "ErrImagePull", message: "not found" } } }],
    };
    const health = evaluateHealth(pod);
    assert.equal(health.status, "Failed");
    assert.match(health.message, /container migrate is in ErrImagePull: not found/);
  });
});
