// The operator's check of a NodeWorkload before it acts. The CRD schema cannot express every
// rule (cross-field rules, unknown fields), and objects written before a rule existed are not
// re-checked by the API server, so the operator runs the API's whole validation itself.
import { formatFieldError, validateNodeWorkload, type NodeWorkload } from '../api/index.js';

export type WorkloadCheck = { ok: true; workload: NodeWorkload } | { ok: false; errors: string[] };

export function checkWorkload(raw: unknown): WorkloadCheck {
  const v = validateNodeWorkload(raw);
  return v.ok ? { ok: true, workload: v.value } : { ok: false, errors: v.errors.map(formatFieldError) };
}
