// The operator's check of a NodeWorkload before it acts. The CRD schema cannot express every
// rule (cross-field rules, unknown fields), and objects written before a rule existed are not
// re-checked by the API server, so the operator runs the API's whole validation itself.
import { formatFieldError, validateNodeWorkload, type NodeWorkload } from '../api/index.js';
import { templateRevision } from '../api/revision.js';

export type WorkloadCheck =
  /** `spec` with its defaults; `revision`: its template's, as assignments carry it. */
  | { ok: true; spec: NodeWorkload['spec']; revision: string }
  | { ok: false; errors: string[] };

/**
 * Checks of the objects the caches hold, by object. A workload is reconciled several times per
 * version (its assignments' events, node changes), and the whole validation and the revision's
 * hash were half of a reconcile's CPU; a new version is a new object, and cached objects are
 * never changed in place. Results are shared: callers must not change them either.
 */
const checked = new WeakMap<object, WorkloadCheck>();

export function checkWorkload(raw: unknown): WorkloadCheck {
  const known = typeof raw === 'object' && raw !== null ? checked.get(raw) : undefined;
  if (known) return known;
  const v = validateNodeWorkload(raw);
  // Only the spec is kept of the parsed copy: the check lives as long as the cached object.
  const check: WorkloadCheck = v.ok ? { ok: true, spec: v.value.spec, revision: templateRevision(v.value.spec.template) } : { ok: false, errors: v.errors.map(formatFieldError) };
  if (typeof raw === 'object' && raw !== null) checked.set(raw, check);
  return check;
}
