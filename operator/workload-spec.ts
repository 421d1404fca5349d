// The operator's check of a NodeWorkload before it acts: the API's own validation (the CRD schema
// cannot express every rule, and objects written before a rule existed are not re-checked), plus
// the rules that only matter to the operator.
import { formatFieldError, validateNodeWorkload, type FieldError, type NodeWorkload } from '../api/index.js';

export type WorkloadCheck = { ok: true; workload: NodeWorkload } | { ok: false; errors: string[] };

export function checkWorkload(raw: unknown): WorkloadCheck {
  const v = validateNodeWorkload(raw);
  if (!v.ok) return { ok: false, errors: v.errors.map(formatFieldError) };
  const extra: FieldError[] = [];
  const mu = v.value.spec.updateStrategy?.maxUnavailable;
  if (mu === 0 || mu === '0%') {
    extra.push({
      path: 'spec.updateStrategy.maxUnavailable',
      message: 'must allow at least one unavailable replica (1 or more, or a percentage above 0%): replicas are replaced, never added beside the old ones, so 0 would block every update',
    });
  }
  if (extra.length) return { ok: false, errors: extra.map(formatFieldError) };
  return { ok: true, workload: v.value };
}
