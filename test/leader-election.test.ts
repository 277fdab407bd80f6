import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { LeaderElector, type LeaderElectionOptions } from "../src/controller/leader-election.ts";
import type { Lease } from "../src/controller/leader-election-lease.ts";
import { KubeClient } from "../src/kube/client.ts";
import { createTestNamespace, eventually, useCluster, type TestCluster } from "./support/cluster.ts";
import { logRequests } from "./support/request-log.ts";
import { kubeconfigFor, startTcpRelay } from "./support/tcp-relay.ts";

const LEASE = "fjord-controller";
// Short enough for tests, in the ratio a real deployment uses: retry < renew deadline < lease.
const timing = { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 };
/** Tries of a standby spanning more than a lease duration (one try per retry period). */
const TRIES_PAST_A_LEASE = timing.leaseDurationSeconds / timing.retryPeriodSeconds + 2;

interface Candidate {
  identity: string;
  elector: LeaderElector;
  startedAt?: number;
  stoppedAt?: number;
  leadingSignal?: AbortSignal;
  /** How many times it has read the lease (each try to take it or renew it reads it first). */
  reads: () => number;
  stop: () => void;
  done: Promise<void>;
}

function candidate(t: TestContext, client: KubeClient, namespace: string, identity: string, extra: Partial<LeaderElectionOptions> = {}): Candidate {
  const controller = new AbortController();
  const log = logRequests(client);
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${LEASE}`;
  const self: Partial<Candidate> = { identity, stop: () => controller.abort(), reads: () => log.to("GET", leasePath).filter((request) => request.answered).length };
  const elector = new LeaderElector(log.client, {
    namespace,
    name: LEASE,
    identity,
    ...timing,
    onStartedLeading: (signal) => {
      self.startedAt = Date.now();
      self.leadingSignal = signal;
    },
    onStoppedLeading: () => (self.stoppedAt = Date.now()),
    ...extra,
  });
  self.elector = elector;
  self.done = elector.run(controller.signal);
  t.after(async () => {
    controller.abort();
    await self.done;
  });
  return self as Candidate;
}

async function readLease(client: KubeClient, namespace: string): Promise<Lease> {
  return client.request<Lease>("GET", `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${LEASE}`);
}

/** A client of the test cluster, or of `server` standing in for it with the same credentials. */
async function clientFor(cluster: TestCluster, t: TestContext, server?: string): Promise<KubeClient> {
  let kubeconfig = cluster.kubeconfigPath;
  if (server) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fjord-leader-election-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    kubeconfig = await kubeconfigFor(kubeconfig, server, dir);
  }
  const client = KubeClient.load({ kubeconfig });
  t.after(() => client.close());
  return client;
}

/** eventually() polls promises; these checks are synchronous. */
const resolved = <T>(value: T) => Promise.resolve(value);

const leaders = (candidates: Candidate[]) => candidates.filter((entry) => entry.elector.isLeader);

/**
 * Until `standby` has read the lease `tries` more times, checking `invariant` all along: a
 * stretch measured in the standby's own attempts, not in wall time, so a slow machine
 * lengthens it instead of cutting it short.
 */
async function throughTries(standby: Candidate, tries: number, invariant: () => void): Promise<void> {
  const from = standby.reads();
  await eventually(
    () => {
      invariant();
      return resolved(standby.reads() - from >= tries);
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  invariant();
}

/** Until `standby` has read the lease at least once: it has seen the leader's record and counts from it. */
const seenTheLease = (standby: Candidate) => eventually(() => resolved(standby.reads() >= 1), { timeoutMs: 10_000, intervalMs: 20 });

test("of two candidates on one lease exactly one leads, and the lease names it", async (t) => {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const client = await clientFor(cluster, t);
  const candidates = [candidate(t, client, namespace, "alpha"), candidate(t, client, namespace, "beta")];

  const leader = await eventually(() => resolved(leaders(candidates)[0]), { timeoutMs: 10_000, intervalMs: 50 });
  const standby = candidates.find((entry) => entry !== leader);
  assert.ok(standby);
  // The standby tries for longer than a lease lasts, while the leader renews: it must never take over.
  await throughTries(standby, TRIES_PAST_A_LEASE, () => assert.deepEqual(leaders(candidates).map((entry) => entry.identity), [leader.identity]));
  assert.equal(standby?.startedAt, undefined, "the standby never started leading");

  const lease = await readLease(client, namespace);
  assert.equal(lease.spec?.holderIdentity, leader.identity);
  assert.equal(lease.spec?.leaseDurationSeconds, 3);
  assert.equal(lease.spec?.leaseTransitions, 0);
  assert.match(lease.spec?.renewTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(Date.now() - Date.parse(lease.spec?.renewTime ?? "") < 1_500, `renewed recently: ${lease.spec?.renewTime}`);
  assert.ok(Date.parse(lease.spec?.acquireTime ?? "") <= Date.parse(lease.spec?.renewTime ?? ""));
});

test("a leader that stops gracefully releases the lease and the standby leads within a second", async (t) => {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const client = await clientFor(cluster, t);
  const first = candidate(t, client, namespace, "first");
  await eventually(() => resolved(first.elector.isLeader), { timeoutMs: 10_000, intervalMs: 50 });
  const second = candidate(t, client, namespace, "second");
  await throughTries(second, 2, () => assert.equal(second.elector.isLeader, false));

  first.stop();
  await first.done;
  const stoppedAt = Date.now();
  assert.equal(first.leadingSignal?.aborted, true, "the leader's work was told to stop");
  assert.ok(first.stoppedAt, "onStoppedLeading was called");

  await eventually(() => resolved(second.elector.isLeader), { timeoutMs: 5_000, intervalMs: 20 });
  const handover = (second.startedAt ?? 0) - stoppedAt;
  assert.ok(handover < 1_200, `took over ${handover} ms after the release`);
  const lease = await readLease(client, namespace);
  assert.equal(lease.spec?.holderIdentity, "second");
  assert.equal(lease.spec?.leaseTransitions, 1);
});

test("a leader that dies without releasing is replaced once its lease expires", async (t) => {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const client = await clientFor(cluster, t);
  const crashing = candidate(t, client, namespace, "crashing", { releaseOnStop: false });
  await eventually(() => resolved(crashing.elector.isLeader), { timeoutMs: 10_000, intervalMs: 50 });
  const standby = candidate(t, client, namespace, "standby");
  await seenTheLease(standby);

  crashing.stop();
  await crashing.done;
  const diedAt = Date.now();
  const held = await readLease(client, namespace);
  assert.equal(held.spec?.holderIdentity, "crashing", "nothing was released");
  const expiresAt = Date.parse(held.spec?.renewTime ?? "") + 3_000;

  await eventually(() => resolved(standby.elector.isLeader), { timeoutMs: 10_000, intervalMs: 20 });
  const startedAt = standby.startedAt ?? 0;
  assert.ok(startedAt >= expiresAt, `took over ${expiresAt - startedAt} ms before the lease expired`);
  assert.ok(startedAt - diedAt < 4_500, `took over ${startedAt - diedAt} ms after the leader died`);
  const lease = await readLease(client, namespace);
  assert.equal(lease.spec?.holderIdentity, "standby");
  assert.equal(lease.spec?.leaseTransitions, 1);
});

test("a partitioned leader stops leading by its renew deadline, before the standby takes over", async (t) => {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const direct = await clientFor(cluster, t);
  const relay = await startTcpRelay(t, new URL(direct.server));
  const isolated = candidate(t, await clientFor(cluster, t, relay.server), namespace, "isolated");
  await eventually(() => resolved(isolated.elector.isLeader), { timeoutMs: 10_000, intervalMs: 50 });
  const standby = candidate(t, direct, namespace, "standby");
  await seenTheLease(standby);

  const renewedAt = Date.parse((await readLease(direct, namespace)).spec?.renewTime ?? "");
  relay.partition();
  const cutAt = Date.now();
  await eventually(() => resolved(isolated.stoppedAt), { timeoutMs: 5_000, intervalMs: 20 });
  await isolated.done;
  assert.equal(isolated.leadingSignal?.aborted, true);
  const stoppedAfter = (isolated.stoppedAt ?? 0) - cutAt;
  assert.ok(stoppedAfter <= 2_300, `stopped leading ${stoppedAfter} ms after the partition`);

  await eventually(() => resolved(standby.elector.isLeader), { timeoutMs: 10_000, intervalMs: 20 });
  assert.ok((isolated.stoppedAt ?? Infinity) < (standby.startedAt ?? 0), "the two never led at the same time");
  assert.ok((standby.startedAt ?? 0) >= renewedAt + 3_000, "the standby waited for the lease to expire");
  const lease = await readLease(direct, namespace);
  assert.equal(lease.spec?.holderIdentity, "standby");
  assert.equal(lease.spec?.leaseTransitions, 1);
});

// Regression: standbys used to compare the holder's renewTime with their own clock, so a
// leader whose clock was behind lost its lease to a standby while still renewing it, and a
// dead leader whose clock was ahead held the lease for as long as its clock was ahead.
const hour = 3_600_000;

test("a standby does not take a lease being renewed by a leader whose clock is an hour behind", async (t) => {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const client = await clientFor(cluster, t);
  const leader = candidate(t, client, namespace, "behind", { wallClock: () => Date.now() - hour });
  await eventually(() => resolved(leader.elector.isLeader), { timeoutMs: 10_000, intervalMs: 50 });
  const standby = candidate(t, client, namespace, "standby");

  // Past a lease duration of the standby watching a renewTime that looks an hour stale.
  await throughTries(standby, TRIES_PAST_A_LEASE, () => {
    assert.equal(standby.elector.isLeader, false, `the standby took over after ${standby.reads()} reads`);
    assert.equal(leader.elector.isLeader, true);
  });
  assert.equal(standby.startedAt, undefined);
  const lease = await readLease(client, namespace);
  assert.equal(lease.spec?.holderIdentity, "behind");
  assert.equal(lease.spec?.leaseTransitions, 0);
  assert.ok(Date.now() - Date.parse(lease.spec?.renewTime ?? "") > hour - 60_000, `written with the skewed clock: ${lease.spec?.renewTime}`);
});

test("a dead leader's lease with a renewTime an hour ahead is taken over a lease duration after it stops changing", async (t) => {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const client = await clientFor(cluster, t);
  const crashing = candidate(t, client, namespace, "ahead", { releaseOnStop: false, wallClock: () => Date.now() + hour });
  await eventually(() => resolved(crashing.elector.isLeader), { timeoutMs: 10_000, intervalMs: 50 });
  const standby = candidate(t, client, namespace, "standby");
  await seenTheLease(standby);

  crashing.stop();
  await crashing.done;
  const diedAt = Date.now();
  const held = await readLease(client, namespace);
  assert.equal(held.spec?.holderIdentity, "ahead", "nothing was released");
  assert.ok(Date.parse(held.spec?.renewTime ?? "") - Date.now() > hour - 60_000, `written with the skewed clock: ${held.spec?.renewTime}`);

  await eventually(() => resolved(standby.elector.isLeader), { timeoutMs: 10_000, intervalMs: 20 });
  const after = (standby.startedAt ?? 0) - diedAt;
  // The last renewal began at most a retry period (plus a round trip) before the leader died.
  assert.ok(after >= 3_000 - 700, `took over ${after} ms after the leader died, before its lease can have expired`);
  assert.ok(after < 4_500, `took over ${after} ms after the leader died`);
  const lease = await readLease(client, namespace);
  assert.equal(lease.spec?.holderIdentity, "standby");
  assert.equal(lease.spec?.leaseTransitions, 1);
});
