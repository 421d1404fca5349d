import type { KubeObject } from './object.js';

export interface Requirement {
  key: string;
  op: 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
  values: string[];
}

export type Selector = Requirement[];

const qualifiedName = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

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
    if (!qualifiedName.test(req.key)) throw new Error(`invalid label key "${req.key}": a qualified name must consist of alphanumeric characters, '-', '_' or '.'`);
    for (const v of req.values) {
      if ((req.op === 'gt' || req.op === 'lt') ? !/^-?\d+$/.test(v) : !labelValue.test(v)) {
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
  field: 'metadata.name' | 'metadata.namespace';
  equal: boolean;
  value: string;
}

/** Parses a field selector over `metadata.name` and `metadata.namespace` (`=`, `==`, `!=`). */
export function parseFieldSelector(text: string): FieldRequirement[] {
  return splitTop(text).map((part) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new Error(`invalid selector: '${part}'; can't understand '${part}'`);
    const field = (m[1] as string).trim();
    if (field !== 'metadata.name' && field !== 'metadata.namespace') {
      throw new Error(`field label not supported: ${field} (supported: metadata.name, metadata.namespace)`);
    }
    return { field, equal: m[2] !== '!=', value: (m[3] as string).trim() };
  });
}

export function matchesFields(reqs: FieldRequirement[], object: KubeObject): boolean {
  return reqs.every((r) => {
    const actual = (r.field === 'metadata.name' ? object.metadata.name : object.metadata.namespace) ?? '';
    return (actual === r.value) === r.equal;
  });
}
