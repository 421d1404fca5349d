// What a log request asks for, read from its path and query the way kubelet reads
// /containerLogs/<namespace>/<pod>/<container>?follow=…&previous=…&tailLines=…&sinceSeconds=…
// (PodLogOptions, checked as ValidatePodLogOptions does). Pure: errors carry the HTTP status.

/** A request the log server answers with `status` and `message`, before any log is read. */
export class LogRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The assignment a log path names, and the container if the path names one. */
export interface LogTarget {
  namespace: string;
  name: string;
  container: string | undefined;
}

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  /** Lines from the end of the log; undefined for all. */
  tailLines: number | undefined;
  /** Epoch ms: only lines written at or after it (from sinceSeconds or sinceTime). */
  sinceMs: number | undefined;
  /** Bytes to send at most; undefined for no limit. */
  limitBytes: number | undefined;
}

export const LOG_PATH_PREFIX = '/containerLogs/';

const SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The target of `/containerLogs/<namespace>/<assignment>[/<container>]`; undefined for any
 * other path (the server serves nothing else). The container may also come as `?container=`.
 */
export function parseLogPath(pathname: string, query: URLSearchParams): LogTarget | undefined {
  if (!pathname.startsWith(LOG_PATH_PREFIX)) return undefined;
  let parts: string[];
  try {
    parts = pathname.slice(LOG_PATH_PREFIX.length).split('/').map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (parts.length === 3 && parts[2] === '') parts.pop();
  if (parts.length < 2 || parts.length > 3) return undefined;
  const [namespace, name, inPath] = parts as [string, string, string | undefined];
  const inQuery = query.get('container') ?? undefined;
  if (inPath !== undefined && inQuery !== undefined && inPath !== inQuery) {
    throw new LogRequestError(400, `the path names container "${inPath}" and the query container "${inQuery}"; give one`);
  }
  const container = inPath ?? inQuery;
  for (const [what, value] of [['namespace', namespace], ['assignment name', name], ['container name', container]] as const) {
    if (value !== undefined && (!SEGMENT.test(value) || value.length > 253)) {
      throw new LogRequestError(400, `${what} "${value}" is not a DNS-1123 name (lowercase letters, digits, "-" and ".")`);
    }
  }
  return { namespace, name, container };
}

/** Go's strconv.ParseBool, which kubelet's query decoding uses; a bare `?follow` is true. */
function bool(query: URLSearchParams, key: string): boolean {
  const v = query.get(key);
  if (v === null) return false;
  if (['', '1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new LogRequestError(400, `${key}=${v} is not a boolean; use true or false`);
}

function integer(query: URLSearchParams, key: string, min: number, rule: string): number | undefined {
  const v = query.get(key);
  if (v === null) return undefined;
  if (!/^-?\d+$/.test(v)) throw new LogRequestError(400, `${key}=${v} is not a whole number`);
  const n = Number(v);
  if (n < min) throw new LogRequestError(422, `${key}: Invalid value: ${n}: ${rule}`);
  return n;
}

/** The options of a log request; `nowMs` turns sinceSeconds into a time. */
export function parseLogOptions(query: URLSearchParams, nowMs: number): LogOptions {
  // kubelet still takes the old `tail` parameter, where "all" means no limit.
  const tail = query.get('tail');
  const tailQuery = new URLSearchParams(query);
  if (tail !== null && query.get('tailLines') === null) {
    if (tail === 'all') tailQuery.delete('tail');
    else tailQuery.set('tailLines', tail);
  }
  const tailLines = integer(tailQuery, 'tailLines', 0, 'must be greater than or equal to 0');
  const sinceSeconds = integer(query, 'sinceSeconds', 1, 'must be greater than 0');
  const limitBytes = integer(query, 'limitBytes', 1, 'must be greater than 0');
  const sinceTime = query.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime !== null) throw new LogRequestError(422, 'at most one of `sinceTime` or `sinceSeconds` may be specified');
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = nowMs - sinceSeconds * 1000;
  if (sinceTime !== null) {
    const t = Date.parse(sinceTime);
    if (!RFC3339.test(sinceTime) || Number.isNaN(t)) throw new LogRequestError(400, `sinceTime=${sinceTime} is not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z)`);
    sinceMs = t;
  }
  return { follow: bool(query, 'follow'), previous: bool(query, 'previous'), timestamps: bool(query, 'timestamps'), tailLines, sinceMs, limitBytes };
}
