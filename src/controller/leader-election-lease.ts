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

/** True when nobody holds the lease, or its holder has not renewed it within its duration. */
export function isLeaseFree(spec: LeaseSpec | undefined, now: number): boolean {
  if (!spec?.holderIdentity) return true;
  const renewed = spec.renewTime ? Date.parse(spec.renewTime) : Number.NaN;
  if (Number.isNaN(renewed)) return true;
  return renewed + (spec.leaseDurationSeconds ?? 0) * 1_000 < now;
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
