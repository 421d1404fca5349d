import { SUBRESOURCE_NAMES } from '../objects/registry.js';
import { badRequest } from '../objects/status.js';

/** A request for a resource: `/api/v1/...` or `/apis/<group>/<version>/...`. */
export interface ResourcePath {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
}

/** One path segment, %-decoded; a malformed escape is the client's mistake. */
function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`the path segment "${segment}" has a malformed %-escape; escape "%" itself as %25`);
  }
}

/**
 * Parses a resource path, or returns undefined for anything else (discovery, health, unknown).
 * A segment that decodes to one holding "/" names no resource, as on kube-apiserver, where it
 * would be two segments.
 */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const parts = pathname.split('/').filter((p) => p.length > 0).map(decodeSegment);
  if (parts.some((p) => p.includes('/'))) return undefined;
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1] as string;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] as string;
    version = parts[2] as string;
    rest = parts.slice(3);
  } else return undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && SUBRESOURCE_NAMES.has(rest[2] as string))) {
    const [, namespace, resource, name, subresource, ...extra] = rest;
    if (extra.length > 0) return undefined;
    return { group, version, namespace, resource: resource as string, ...(name !== undefined ? { name } : {}), ...(subresource !== undefined ? { subresource } : {}) };
  }
  const [resource, name, subresource, ...extra] = rest;
  if (extra.length > 0 || resource === undefined) return undefined;
  return { group, version, resource, ...(name !== undefined ? { name } : {}), ...(subresource !== undefined ? { subresource } : {}) };
}
