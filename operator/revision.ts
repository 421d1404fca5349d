// A template's revision: a short hash that changes whenever the template does and never when it
// does not, so that assignments can be compared with the workload without deep equality.
import { createHash } from 'node:crypto';
import type { Template } from '../api/index.js';

/** Key order and undefined members do not change the hash; array order does. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** 10 hex digits (40 bits) of SHA-256: short enough for names and labels, collisions out of reach per workload. */
export function templateRevision(template: Template): string {
  return createHash('sha256').update(canonical(template)).digest('hex').slice(0, 10);
}
