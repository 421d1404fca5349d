// Query parameters read the way kube-apiserver reads them, so that clients other than kubectl
// and client-go (Python's `kubernetes` sends `watch=True`) get the same answers: a boolean is
// false only as "0" or any case of "false" (anything else present is true), and a number or
// resourceVersion that does not parse is a 400 naming the parameter, never silently ignored.
import { ApiError, badRequest } from '../objects/status.js';

/** kube-apiserver's reading of a boolean parameter: absent, "0" or "false" in any case is false. */
export function flagParam(query: URLSearchParams, name: string): boolean {
  const raw = query.get(name);
  return raw !== null && raw !== '0' && raw.toLowerCase() !== 'false';
}

/** A whole-number parameter; absent or empty is undefined. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`${name}: invalid value "${raw}": must be a non-negative integer`);
  return Number(raw);
}

const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Parses a resourceVersion (a query parameter or an object field; "" = none). etcd's revisions
 * stay far below 2^53, so one beyond that is newer than anything stored: 504 at once, as
 * kube-apiserver answers for a revision it has not reached, without asking etcd.
 */
export function parseResourceVersion(raw: string | null | undefined, where: string): number | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || BigInt(raw) > UINT64_MAX) throw badRequest(`${where}: invalid resource version "${raw}": must be an unsigned 64-bit integer`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw tooLargeResourceVersion(raw);
  return value;
}

/** kube-apiserver's answer to a read at a revision it has not reached: retry later. */
export function tooLargeResourceVersion(raw: string, current?: number): ApiError {
  return new ApiError(504, `Too large resource version: ${raw}${current === undefined ? '' : `, current: ${current}`}`, 'Timeout', {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}
