import { describe, expect, it } from '@jest/globals';
import { evaluateJsonPath, parseJsonPath } from './jsonpath.js';
import { buildTable, humanDuration } from './tables.js';

describe('JSONPath for printer columns', () => {
  const object = { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Degraded', status: 'False' }], ips: ['a', 'b'] }, metadata: { labels: { 'shopfloor.dev/node': 'n1' } } };
  const run = (expr: string): unknown[] => evaluateJsonPath(parseJsonPath(expr), object);

  it('selects fields, indices, wildcards, quoted keys and filters', () => {
    expect(run('.status.conditions[?(@.type=="Ready")].status')).toEqual(['True']);
    expect(run('.status.conditions[?(@.type!="Ready")].type')).toEqual(['Degraded']);
    expect(run('.status.ips[1]')).toEqual(['b']);
    expect(run('.status.ips[*]')).toEqual(['a', 'b']);
    expect(run(".metadata.labels['shopfloor.dev/node']")).toEqual(['n1']);
    expect(run('.status.missing')).toEqual([]);
  });

  it('names the position of what it cannot parse', () => {
    expect(() => parseJsonPath('.status[')).toThrow(/unclosed/);
    expect(() => parseJsonPath('status')).toThrow(/unexpected "s" at position 0/);
  });
});

describe('tables', () => {
  it('prints ages like kubectl', () => {
    expect(humanDuration(45_000)).toBe('45s');
    expect(humanDuration(200_000)).toBe('3m20s');
    expect(humanDuration(3 * 3600_000)).toBe('3h');
    expect(humanDuration(51 * 3600_000)).toBe('2d3h');
    expect(humanDuration(400 * 86400_000)).toBe('400d');
  });

  it('builds rows from printer columns with the name first and metadata objects', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const table = buildTable(
      [{ name: 'Mode', type: 'string', jsonPath: '.spec.mode' }, { name: 'Ready', type: 'integer', jsonPath: '.status.ready' }, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
      [{ metadata: { name: 'w', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { mode: 'Replicas' } }],
      { resourceVersion: '5' }, 'Metadata', now,
    ) as { rows: { cells: unknown[]; object: { kind: string } }[]; columnDefinitions: { name: string }[] };
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Mode', 'Ready', 'Age']);
    expect(table.rows[0]?.cells).toEqual(['w', 'Replicas', null, '10m']);
    expect(table.rows[0]?.object.kind).toBe('PartialObjectMetadata');
  });

  it('lets a kind place its own name column (Events show it only with -o wide)', () => {
    const table = buildTable([{ name: 'Reason', type: 'string', jsonPath: '.reason' }, { name: 'Name', type: 'string', format: 'name', priority: 1, jsonPath: '.metadata.name' }],
      [{ metadata: { name: 'e1' }, reason: 'Scheduled' }], {}, 'None') as { rows: { cells: unknown[] }[]; columnDefinitions: { name: string; priority: number }[] };
    expect(table.columnDefinitions.map((c) => [c.name, c.priority])).toEqual([['Reason', 0], ['Name', 1]]);
    expect(table.rows[0]?.cells).toEqual(['Scheduled', 'e1']);
  });
});
