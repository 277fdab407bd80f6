/** The API server's error body (metav1.Status). */
export interface Status {
  kind?: "Status";
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

/** An error answer from the API server, keeping its reason so callers can branch on it. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";

  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly status: Status,
  ) {
    super(message);
  }

  static fromStatus(status: Status, method: string, path: string): KubeApiError {
    const code = status.code ?? 0;
    return new KubeApiError(code, status.reason ?? "Unknown", status.message ?? `${method} ${path} failed with HTTP ${code}`, status);
  }

  static fromResponse(statusCode: number, body: string, method: string, path: string): KubeApiError {
    let status: Status;
    try {
      status = JSON.parse(body) as Status;
    } catch {
      status = { message: body.trim() || undefined };
    }
    return KubeApiError.fromStatus({ ...status, code: statusCode }, method, path);
  }

  get notFound(): boolean {
    return this.statusCode === 404;
  }

  get conflict(): boolean {
    return this.statusCode === 409;
  }

  /** 422 with a cause saying a field may not change (e.g. a Deployment's selector, a Job's template). */
  get immutableField(): boolean {
    const text = [this.message, ...(this.status.details?.causes ?? []).map((cause) => cause.message ?? "")].join(" ");
    return this.statusCode === 422 && /field is immutable|may not change once set|cannot be updated|Forbidden: updates to/i.test(text);
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.notFound;
}
