export interface CachedToken {
  token: string;
  /** Epoch ms after which the token is not used any more. */
  expiresAt: number;
}

/** Docker's token spec: a token without `expires_in` lives 60 seconds. */
const DEFAULT_LIFETIME_S = 60;
/** Renew a little early so a token does not expire between being read and being checked. */
const SAFETY_MARGIN_MS = 5_000;

/** When a token from a Docker token response stops being usable. */
export function tokenExpiry(response: { expires_in?: unknown; issued_at?: unknown }, now: number): number {
  const lifetime = typeof response.expires_in === "number" && response.expires_in > 0 ? response.expires_in : DEFAULT_LIFETIME_S;
  const issued = typeof response.issued_at === "string" ? Date.parse(response.issued_at) : Number.NaN;
  // A registry clock far from ours would make issued_at misleading; never start in the future.
  const start = Number.isNaN(issued) ? now : Math.min(issued, now);
  return start + lifetime * 1000 - Math.min(SAFETY_MARGIN_MS, (lifetime * 1000) / 10);
}

/** Bearer tokens by (realm, service, scope, account): reused until they expire. */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limit = 1024,
  ) {}

  static key(parts: { realm: string; service?: string; scope: string; account?: string }): string {
    return JSON.stringify([parts.realm, parts.service ?? "", parts.scope, parts.account ?? ""]);
  }

  get(key: string): string | undefined {
    const entry = this.tokens.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return entry.token;
  }

  set(key: string, token: CachedToken): void {
    this.tokens.delete(key);
    this.tokens.set(key, token);
    if (this.tokens.size > this.limit) this.tokens.delete(this.tokens.keys().next().value as string);
  }

  delete(key: string): void {
    this.tokens.delete(key);
  }
}
