import { labelValueProblem, qualifiedNameProblems } from './label-syntax.js';
import type { KubeObject } from './object.js';
import { isPlainObject } from './object.js';

export interface Requirement {
  key: string;
  op: 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
  values: string[];
}

export type Selector = Requirement[];


/** Splits on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Parses a label selector (`a=b,c!=d,e in (f,g),!h`); throws an Error naming the bad part. */
export function parseLabelSelector(text: string): Selector {
  const out: Selector = [];
  for (const part of splitTop(text)) {
    let m: RegExpExecArray | null;
    let req: Requirement;
    if ((m = /^!\s*(\S+)$/.exec(part))) req = { key: m[1] as string, op: '!exists', values: [] };
    else if ((m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
      req = { key: m[1] as string, op: m[2] as 'in' | 'notin', values: (m[3] as string).split(',').map((v) => v.trim()).filter((v, i, a) => v.length > 0 || a.length === 1) };
    } else if ((m = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)$/.exec(part))) {
      const op = m[2] === '!=' ? '!=' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : '=';
      req = { key: m[1] as string, op, values: [m[3] as string] };
    } else if ((m = /^([^=!<>\s()]+)$/.exec(part))) req = { key: m[1] as string, op: 'exists', values: [] };
    else throw new Error(`unable to parse requirement: "${part}"`);
    const keyProblems = qualifiedNameProblems(req.key);
    if (keyProblems.length > 0) throw new Error(`invalid label key "${req.key}": ${keyProblems.join('; ')}`);
    for (const v of req.values) {
      if ((req.op === 'gt' || req.op === 'lt') ? !/^-?\d+$/.test(v) : labelValueProblem(v) !== undefined) {
        throw new Error(`invalid label value: "${v}" for key "${req.key}"`);
      }
    }
    out.push(req);
  }
  return out;
}

export function matchesLabels(selector: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const value = l[r.key];
    switch (r.op) {
      case 'exists': return has;
      case '!exists': return !has;
      case '=': return has && value === r.values[0];
      case '!=': return !has || value !== r.values[0];
      case 'in': return has && r.values.includes(value as string);
      case 'notin': return !has || !r.values.includes(value as string);
      case 'gt': return has && Number(value) > Number(r.values[0]);
      case 'lt': return has && Number(value) < Number(r.values[0]);
    }
    return false;
  });
}

export interface FieldRequirement {
  /** A dotted path into the object, e.g. `metadata.name` or `involvedObject.uid`. */
  field: string;
  equal: boolean;
  value: string;
}

/**
 * Parses a field selector (`=`, `==`, `!=`) over the fields a resource supports:
 * `metadata.name` and `metadata.namespace` everywhere, plus `extra` (e.g. an Event's
 * `involvedObject.name`, which `kubectl describe` selects on).
 */
export function parseFieldSelector(text: string, extra: readonly string[] = []): FieldRequirement[] {
  const supported = ['metadata.name', 'metadata.namespace', ...extra];
  return splitTop(text).map((part) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new Error(`invalid selector: '${part}'; can't understand '${part}'`);
    const field = (m[1] as string).trim();
    if (!supported.includes(field)) {
      throw new Error(`field label not supported: ${field} (supported: ${supported.join(', ')})`);
    }
    return { field, equal: m[2] !== '!=', value: (m[3] as string).trim() };
  });
}

function fieldValue(object: KubeObject, path: string): string {
  let node: unknown = object;
  for (const key of path.split('.')) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node === undefined || node === null ? '' : String(node);
}

export function matchesFields(reqs: FieldRequirement[], object: KubeObject): boolean {
  return reqs.every((r) => (fieldValue(object, r.field) === r.value) === r.equal);
}

/**
 * The requirements of a metav1.LabelSelector (`matchLabels` and `matchExpressions`), sorted by
 * key as kube-apiserver sorts them; a missing selector is undefined (it selects nothing).
 */
export function labelSelectorRequirements(selector: unknown): Selector | undefined {
  if (!isPlainObject(selector)) return undefined;
  const out: Selector = [];
  if (isPlainObject(selector.matchLabels)) {
    for (const [key, value] of Object.entries(selector.matchLabels)) out.push({ key, op: '=', values: [String(value)] });
  }
  if (Array.isArray(selector.matchExpressions)) {
    const ops: Record<string, Requirement['op']> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' };
    for (const e of selector.matchExpressions) {
      if (!isPlainObject(e)) continue;
      const values = Array.isArray(e.values) ? e.values.map(String).sort() : [];
      out.push({ key: String(e.key ?? ''), op: ops[String(e.operator)] ?? 'in', values });
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** A selector as kubectl prints one (`app=x,tier in (a,b),!legacy`); `<none>` when it is empty. */
export function formatSelector(selector: Selector | undefined): string {
  if (!selector || selector.length === 0) return '<none>';
  const text: Record<Requirement['op'], (r: Requirement) => string> = {
    exists: (r) => r.key,
    '!exists': (r) => `!${r.key}`,
    '=': (r) => `${r.key}=${r.values[0] ?? ''}`,
    '!=': (r) => `${r.key}!=${r.values[0] ?? ''}`,
    in: (r) => `${r.key} in (${r.values.join(',')})`,
    notin: (r) => `${r.key} notin (${r.values.join(',')})`,
    gt: (r) => `${r.key}>${r.values[0] ?? ''}`,
    lt: (r) => `${r.key}<${r.values[0] ?? ''}`,
  };
  return selector.map((r) => text[r.op](r)).join(',');
}
