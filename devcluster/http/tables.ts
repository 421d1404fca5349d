import { evaluateJsonPath, parseJsonPath } from './jsonpath.js';
import type { KubeObject } from '../objects/object.js';
import type { PrinterColumn } from '../objects/registry.js';

/** kubectl's way of printing an age: `45s`, `3m20s`, `5h`, `2d3h`, `400d`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  const days = Math.floor(hours / 24) % 365;
  if (hours < 24 * 365 * 8) return days === 0 ? `${years}y` : `${years}y${days}d`;
  return `${years}y`;
}

function cell(column: PrinterColumn, object: KubeObject, now: number): unknown {
  let values: unknown[];
  if (column.compute) values = [column.compute(object)];
  else if (column.jsonPath) {
    try {
      values = evaluateJsonPath(parseJsonPath(column.jsonPath), object);
    } catch {
      values = [];
    }
  } else values = [];
  values = values.filter((v) => v !== undefined && v !== null);
  if (values.length === 0) return column.type === 'date' ? '<unknown>' : null;
  const value = values.length === 1 ? values[0] : values.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',');
  if (column.type === 'date') {
    const t = Date.parse(String(value));
    return Number.isNaN(t) ? '<invalid>' : humanDuration(now - t);
  }
  if (column.type === 'integer' || column.type === 'number') return typeof value === 'number' ? value : Number(value);
  if (column.type === 'boolean') return typeof value === 'boolean' ? value : String(value) === 'true';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** A meta.k8s.io/v1 Table of `objects`: the name column (unless `columns` has one) and then `columns`. */
export function buildTable(
  columns: PrinterColumn[],
  objects: KubeObject[],
  meta: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
  include: IncludeObject,
  now = Date.now(),
): Record<string, unknown> {
  // A kind may place its name column itself (Events show it only with -o wide); else it comes first.
  const ownName = columns.some((c) => c.format === 'name');
  const definitions = [
    ...(ownName ? [] : [{ name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 }]),
    ...columns.map((c) => ({ name: c.name, type: c.type === 'date' ? 'string' : c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
  ];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: definitions,
    rows: objects.map((o) => ({
      cells: [...(ownName ? [] : [o.metadata.name]), ...columns.map((c) => cell(c, o, now))],
      ...(include === 'None' ? {} : { object: include === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } }),
    })),
  };
}
