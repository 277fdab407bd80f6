import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parse, stringify } from "yaml";
import { LeaderElector, type LeaderElectionOptions } from "../src/controller/leader-election.ts";
import type { Lease } from "../src/controller/leader-election-lease.ts";
import { KubeClient } from "../src/kube/client.ts";
import { createTestNamespace, eventually, useCluster, type TestCluster } from "./support/cluster.ts";

const LEASE = "fjord-controller";
// Short enough for tests, in the ratio a real deployment uses: retry < renew deadline < lease.
const timing = { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 };

interface Candidate {
  identity: string;
  elector: LeaderElector;
  startedAt?: number;
  stoppedAt?: number;
  leadingSignal?: AbortSignal;
  stop: () => void;
  done: Promise<void>;
}

function candidate(t: TestContext, client: KubeClient, namespace: string, identity: string, extra: Partial<LeaderElectionOptions> = {}): Candidate {
  const controller = new AbortController();
  const self: Partial<Candidate> = { identity, stop: () => controller.abort() };
  const elector = new LeaderElector(client, {
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
    const config = parse(await readFile(kubeconfig, "utf8")) as { clusters: { cluster: { server: string } }[] };
    for (const entry of config.clusters) entry.cluster.server = server;
    const dir = await mkdtemp(path.join(os.tmpdir(), "fjord-leader-election-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    kubeconfig = path.join(dir, "kubeconfig");
    await writeFile(kubeconfig, stringify(config), { mode: 0o600 });
  }
  const client = KubeClient.load({ kubeconfig });
  t.after(() => client.close());
  return client;
}

/**
 * A TCP relay to the API server that can be cut: once partitioned, bytes in either direction
 * are dropped and new connections hang, the way a lost network route looks to a client
 * (requests time out rather than fail fast).
 */
async function partitionableRelay(t: TestContext, target: URL): Promise<{ server: string; partition: () => void }> {
  let partitioned = false;
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((downstream) => {
    sockets.add(downstream);
    downstream.on("close", () => sockets.delete(downstream));
    downstream.on("error", () => undefined);
    if (partitioned) return;
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => downstream.destroy());
    downstream.on("data", (chunk) => partitioned || upstream.write(chunk));
    upstream.on("data", (chunk) => partitioned || downstream.write(chunk));
    downstream.on("end", () => upstream.end());
    upstream.on("end", () => downstream.end());
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => relay.close(resolve));
  });
  const { port } = relay.address() as net.AddressInfo;
  return { server: `${target.protocol}//127.0.0.1:${port}`, partition: () => (partitioned = true) };
}

/** eventually() polls promises; these checks are synchronous. */
const resolved = <T>(value: T) => Promise.resolve(value);

const leaders = (candidates: Candidate[]) => candidates.filter((entry) => entry.elector.isLeader);

test("of two candidates on one lease exactly one leads, and the lease names it", async (t) => {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const client = await clientFor(cluster, t);
  const candidates = [candidate(t, client, namespace, "alpha"), candidate(t, client, namespace, "beta")];

  const leader = await eventually(() => resolved(leaders(candidates)[0]), { timeoutMs: 10_000, intervalMs: 50 });
  // Several retry periods of both candidates trying: the standby must never take over.
  for (let check = 0; check < 10; check++) {
    assert.deepEqual(leaders(candidates).map((entry) => entry.identity), [leader.identity]);
    await sleep(200);
  }
  const standby = candidates.find((entry) => entry !== leader);
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
  await sleep(1_000);
  assert.equal(second.elector.isLeader, false);

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
  await sleep(700);

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
  const relay = await partitionableRelay(t, new URL(direct.server));
  const isolated = candidate(t, await clientFor(cluster, t, relay.server), namespace, "isolated");
  await eventually(() => resolved(isolated.elector.isLeader), { timeoutMs: 10_000, intervalMs: 50 });
  const standby = candidate(t, direct, namespace, "standby");
  await sleep(700);

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

  // Well past a lease duration of the standby watching a renewTime that looks an hour stale.
  for (let check = 0; check < 25; check++) {
    assert.equal(standby.elector.isLeader, false, `the standby took over after ${check * 200} ms`);
    assert.equal(leader.elector.isLeader, true);
    await sleep(200);
  }
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
  await sleep(700);

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
