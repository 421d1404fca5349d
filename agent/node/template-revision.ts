// A template's revision as the agent computes it for static workloads: SHA-256 of the template as
// canonical JSON (keys sorted, undefined members dropped), 10 hex digits. It is the same
// function the operator uses for the assignments it writes; the agent may not import the
// operator, so it keeps this copy until the function moves to api/.
import { createHash } from 'node:crypto';
import type { Template } from '../../api/index.js';

/** JSON with object keys sorted and undefined members dropped: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function templateRevision(template: Template): string {
  return createHash('sha256').update(canonicalJson(template)).digest('hex').slice(0, 10);
}
