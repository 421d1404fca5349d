// A template's revision: a short hash that changes whenever the template does and never when it
// does not, so that assignments can be compared with the workload without deep equality. Key order and
// undefined members do not change the hash; array order does.
import { createHash } from 'node:crypto';
import type { Template } from './template.js';
import { canonicalJson } from './canonical-json.js';

/** 10 hex digits (40 bits) of SHA-256: short enough for names and labels, collisions out of reach per workload. */
export function templateRevision(template: Template): string {
  return createHash('sha256').update(canonicalJson(template)).digest('hex').slice(0, 10);
}
