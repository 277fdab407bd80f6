export type RegistryErrorCode =
  /** The image reference or tag is malformed. */
  | "invalid-reference"
  /** The dockerconfigjson could not be read. */
  | "invalid-credentials"
  /** 401: no credentials, or credentials rejected (by the registry or its token service). */
  | "unauthorized"
  /** 403: authenticated, but not allowed to pull. */
  | "forbidden"
  /** Repository, tag or manifest unknown. */
  | "not-found"
  /** No connection: refused, reset, DNS failure. */
  | "unreachable"
  /** Connected but no complete answer within the request timeout. */
  | "timeout"
  /** The server certificate was not trusted, or TLS failed. */
  | "tls"
  /** 429 beyond what the retries (and Retry-After limit) allow. */
  | "rate-limited"
  /** 5xx after all retries, or another unexpected status. */
  | "server-error"
  /** The answer did not follow the distribution API (bad JSON, digest mismatch, foreign Link). */
  | "invalid-response"
  /** Plain HTTP was needed but is not allowed for this host. */
  | "insecure-refused";

/**
 * Every failure of the registry client. The message names the image and what to do about it,
 * and never holds a password or token: the client passes its messages through a Redactor.
 */
export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    /** Image name (`registry/repository`) the operation was about. */
    readonly image: string,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; attempts?: number } = {},
  ) {
    super(`${image}: ${message}`);
    this.name = "RegistryError";
  }

  get status(): number | undefined {
    return this.details.status;
  }
}

/** Removes known secrets from text that may end up in a status, an event or a log. */
export class Redactor {
  private readonly secrets = new Set<string>();
  private readonly tokens = new Set<string>();

  /** Tokens are bounded so that a long-running controller collecting them does not grow without end. */
  constructor(private readonly tokenLimit = 256) {}

  /** A credential: redacted for the client's whole life. */
  add(secret: string | undefined): void {
    // Very short values would redact ordinary words.
    if (secret !== undefined && secret.length >= 4) this.secrets.add(secret);
  }

  addToken(token: string): void {
    if (token.length < 4) return;
    this.tokens.delete(token);
    this.tokens.add(token);
    if (this.tokens.size > this.tokenLimit) this.tokens.delete(this.tokens.values().next().value as string);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of [...this.secrets, ...this.tokens]) out = out.split(secret).join("[redacted]");
    return out;
  }

  error(code: RegistryErrorCode, image: string, message: string, details?: RegistryError["details"]): RegistryError {
    return new RegistryError(code, image, this.redact(message), details);
  }
}
