/** The fields of a coordination.k8s.io/v1 Lease that leader election reads and writes. */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string; [field: string]: unknown };
  spec?: LeaseSpec;
}

export function leasePath(namespace: string, name?: string): string {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits (`2006-01-02T15:04:05.000000Z`). */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * The fields a holder writes when it takes or renews the lease. Labels, annotations and
 * resourceVersion are left out on purpose: they change without the holder being alive, and
 * counting them as a sign of life would let any edit of the object keep a dead leader's lease.
 */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

/**
 * What a candidate remembers of the lease, as client-go's observedRecord/observedTime:
 * the record as last read and when, on the candidate's own monotonic clock, it last saw
 * that record change. `observedAt` never mixes with times written in the lease, as those
 * come from the holder's clock, which may be skewed against ours by any amount.
 */
export interface LeaseObservation {
  record: LeaseRecord;
  observedAt: number;
}

export function leaseRecord(spec: LeaseSpec | undefined): LeaseRecord {
  // Absent, null and empty all mean the same to the API server and to client-go.
  return {
    holderIdentity: spec?.holderIdentity ?? "",
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTime: spec?.acquireTime ?? "",
    renewTime: spec?.renewTime ?? "",
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}

/**
 * Times are compared as the API server returns them, not parsed: all that matters is that
 * the holder wrote something new, never what its clock said.
 */
export function sameLeaseRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/**
 * The observation after reading `spec` at monotonic time `now`. An unchanged record keeps
 * its old `observedAt`, so a holder that stopped renewing runs out of time; a changed one
 * restarts the count, however far the written renewTime is from our clock.
 */
export function observeLease(previous: LeaseObservation | undefined, spec: LeaseSpec | undefined, now: number): LeaseObservation {
  const record = leaseRecord(spec);
  if (previous && sameLeaseRecord(previous.record, record)) return previous;
  return { record, observedAt: now };
}

/**
 * True when nobody holds the observed lease, or it has not changed for its duration of local
 * time since `observedAt`; `observedAt` and `now` are on the same monotonic clock. A candidate
 * that has only just started watching thus waits a full duration even for a long-dead holder:
 * it cannot tell dead from alive without seeing the record stand still.
 */
export function isLeaseFree(observed: LeaseRecord, observedAt: number, now: number): boolean {
  if (!observed.holderIdentity) return true;
  return observedAt + observed.leaseDurationSeconds * 1_000 < now;
}

/** The spec for `identity` taking the lease over from whoever held it. */
export function acquiredSpec(previous: LeaseSpec | undefined, identity: string, leaseDurationSeconds: number, now: number): LeaseSpec {
  const time = formatMicroTime(now);
  const transitions = previous?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: time,
    renewTime: time,
    // A transition is a change of holder: a restarted process with the same identity resumes.
    leaseTransitions: previous && previous.holderIdentity !== identity ? transitions + 1 : transitions,
  };
}

export function renewedSpec(previous: LeaseSpec, leaseDurationSeconds: number, now: number): LeaseSpec {
  return { ...previous, leaseDurationSeconds, renewTime: formatMicroTime(now) };
}

/**
 * The spec a leader leaves behind when it stops on purpose: no holder and a 1 s duration, so
 * a standby takes over at its next try instead of waiting for the lease to expire.
 */
export function releasedSpec(previous: LeaseSpec, now: number): LeaseSpec {
  const time = formatMicroTime(now);
  return { ...previous, holderIdentity: "", leaseDurationSeconds: 1, acquireTime: time, renewTime: time };
}
