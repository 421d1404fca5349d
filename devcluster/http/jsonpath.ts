import { isPlainObject } from '../objects/object.js';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; path: string[]; op: '==' | '!=' | 'exists'; value?: unknown };

/** A JSONPath expression that cannot be parsed; the message names the position. */
export class JsonPathError extends Error {}

/**
 * Parses the JSONPath subset of printer columns: `.a.b`, `['a.b']`, `[0]`, `[*]`, `.*`, and
 * filters `[?(@.type=="Ready")]` (== and !=, or existence `[?(@.x)]`).
 */
export function parseJsonPath(expr: string): Step[] {
  let text = expr.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1);
  if (text.startsWith('$')) text = text.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '.') {
      i++;
      if (text[i] === '*') {
        steps.push({ kind: 'all' });
        i++;
        continue;
      }
      const m = /^[A-Za-z0-9_\-/]+/.exec(text.slice(i));
      if (!m) throw new JsonPathError(`invalid JSONPath "${expr}": expected a field name at position ${i}`);
      steps.push({ kind: 'field', name: m[0] });
      i += m[0].length;
    } else if (ch === '[') {
      const end = findClose(text, i, expr);
      const inner = text.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(parseFilter(inner.slice(2, -1), expr));
      else throw new JsonPathError(`invalid JSONPath "${expr}": cannot read "[${inner}]"`);
    } else {
      throw new JsonPathError(`invalid JSONPath "${expr}": unexpected "${ch}" at position ${i}`);
    }
  }
  return steps;
}

function findClose(text: string, open: number, expr: string): number {
  let quote: string | undefined;
  for (let j = open + 1; j < text.length; j++) {
    const c = text[j];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ']') return j;
  }
  throw new JsonPathError(`invalid JSONPath "${expr}": unclosed "["`);
}

function parseFilter(body: string, expr: string): Step {
  const m = /^@((?:\.[A-Za-z0-9_\-/]+)+)\s*(?:(==|!=)\s*(.+))?$/.exec(body.trim());
  if (!m) throw new JsonPathError(`invalid JSONPath "${expr}": unsupported filter "${body}"`);
  const path = (m[1] as string).slice(1).split('.');
  if (!m[2]) return { kind: 'filter', path, op: 'exists' };
  const raw = (m[3] as string).trim();
  let value: unknown;
  if (/^'.*'$/.test(raw)) value = raw.slice(1, -1);
  else {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      throw new JsonPathError(`invalid JSONPath "${expr}": cannot read the value ${raw}`);
    }
  }
  return { kind: 'filter', path, op: m[2] as '==' | '!=', value };
}

/** Every value the path selects in `data`. */
export function evaluateJsonPath(steps: Step[], data: unknown): unknown[] {
  let current: unknown[] = [data];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const node of current) {
      if (step.kind === 'field') {
        if (isPlainObject(node) && node[step.name] !== undefined) next.push(node[step.name]);
      } else if (step.kind === 'index') {
        if (Array.isArray(node)) {
          const v = node[step.index < 0 ? node.length + step.index : step.index];
          if (v !== undefined) next.push(v);
        }
      } else if (step.kind === 'all') {
        if (Array.isArray(node)) next.push(...node);
        else if (isPlainObject(node)) next.push(...Object.values(node));
      } else {
        const items = Array.isArray(node) ? node : [];
        for (const item of items) {
          let v: unknown = item;
          for (const p of step.path) v = isPlainObject(v) ? v[p] : undefined;
          const keep = step.op === 'exists' ? v !== undefined : step.op === '==' ? v === step.value : v !== step.value;
          if (keep) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}
