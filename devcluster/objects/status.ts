/** One field named in a 422 Invalid answer, as kubectl prints it. */
export interface StatusCause {
  reason: string;
  message: string;
  /** Absent where the cause is the request as a whole (kube-apiserver leaves it out too). */
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

const reasons: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** An API failure, answered as a `Status` object with kube-apiserver's reason and code. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason: string = reasons[code] ?? 'Unknown',
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: withoutEmptyGroup(this.details) } : {}),
      code: this.code,
    };
  }
}

/** kube-apiserver leaves the core group's "" out of a Status's details (it is omitempty there). */
function withoutEmptyGroup(details: StatusDetails): StatusDetails {
  if (details.group !== '') return details;
  const { group: _core, ...rest } = details;
  return rest;
}

/** What a resource is called in messages: `configmaps "x"` or `nodeworkloads.shopfloor.dev "x"`. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const notFound = (resource: string, group: string, name: string): ApiError =>
  new ApiError(404, `${qualified(resource, group)} "${name}" not found`, 'NotFound', { name, group, kind: resource });

export const alreadyExists = (resource: string, group: string, name: string): ApiError =>
  new ApiError(409, `${qualified(resource, group)} "${name}" already exists`, 'AlreadyExists', { name, group, kind: resource });

export const conflict = (resource: string, group: string, name: string, why: string): ApiError =>
  new ApiError(409, `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, 'Conflict', { name, group, kind: resource });

export const badRequest = (message: string): ApiError => new ApiError(400, message, 'BadRequest');

/** 422 with one cause per bad field, worded like kube-apiserver: `Kind.group "name" is invalid: field: message`. */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const what = group ? `${kind}.${group}` : kind;
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new ApiError(422, `${what} "${name}" is invalid: ${joined}`, 'Invalid', { name, group, kind, causes });
}

export const gone = (message: string): ApiError => new ApiError(410, message, 'Expired');

export const unavailable = (message: string): ApiError =>
  new ApiError(503, message, 'ServiceUnavailable', { retryAfterSeconds: 1 });
