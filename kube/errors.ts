import type { KubeStatus } from './types.js';

/**
 * The API server answered with an error status. `code` is the HTTP code and `reason` the
 * Kubernetes `Status.reason` (NotFound, AlreadyExists, Conflict, Expired, Gone, Invalid,
 * Forbidden, …), so callers branch on them instead of parsing messages.
 */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';

  constructor(
    readonly code: number,
    readonly reason: string,
    readonly status: KubeStatus,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${code} ${reason}: ${status.message ?? 'no message from the API server'}`);
  }

  /** Builds the error from a response body that may or may not be a `Status`. */
  static fromResponse(code: number, body: string, method: string, path: string): KubeApiError {
    let status: KubeStatus = {};
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object') status = parsed as KubeStatus;
    } catch {
      status = { message: body.trim().slice(0, 500) || undefined };
    }
    return new KubeApiError(code, status.reason || reasonForCode(code), status, method, path);
  }
}

/** The request never got an HTTP answer: connection refused or reset, TLS failure, timeout. */
export class KubeTransportError extends Error {
  override readonly name = 'KubeTransportError';

  constructor(
    readonly method: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`${method} ${path}: no answer from the API server: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** What the API server uses when a Status carries no reason. */
function reasonForCode(code: number): string {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 405:
      return 'MethodNotAllowed';
    case 409:
      return 'Conflict';
    case 410:
      return 'Gone';
    case 415:
      return 'UnsupportedMediaType';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    case 500:
      return 'InternalError';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return 'Unknown';
  }
}

function apiError(err: unknown): KubeApiError | undefined {
  return err instanceof KubeApiError ? err : undefined;
}

export const isNotFound = (err: unknown): boolean => apiError(err)?.code === 404;
export const isAlreadyExists = (err: unknown): boolean => apiError(err)?.code === 409 && apiError(err)?.reason === 'AlreadyExists';
/** A write lost a race: the object changed since it was read (or a precondition failed). */
export const isConflict = (err: unknown): boolean => apiError(err)?.code === 409 && apiError(err)?.reason !== 'AlreadyExists';
/** The requested resourceVersion is older than what the server still keeps: relist. */
export const isGone = (err: unknown): boolean => apiError(err)?.code === 410;
export const isInvalid = (err: unknown): boolean => apiError(err)?.code === 422;
