import { describe, expect, it } from '@jest/globals';
import { Store, fieldIndex, labelIndex } from './store.js';
import type { KubeObject } from './types.js';

interface Assignment extends KubeObject {
  spec?: { nodeName?: string };
}

const na = (name: string, rv: string, node: string, extra: Partial<Assignment> = {}): Assignment => ({
  metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion: rv, labels: { 'shopfloor.dev/node': node } },
  spec: { nodeName: node },
  ...extra,
});

function newStore(): Store<Assignment> {
  return new Store<Assignment>({ byNode: labelIndex('shopfloor.dev/node'), byNodeName: fieldIndex((o: Assignment) => o.spec?.nodeName) });
}

describe('Store', () => {
  it('reports add, then update only when the resourceVersion moves', () => {
    const s = newStore();
    expect(s.upsert(na('a', '1', 'n1'))?.type).toBe('add');
    expect(s.upsert(na('a', '1', 'n1'))).toBeUndefined();
    const change = s.upsert(na('a', '2', 'n1'));
    expect(change?.type).toBe('update');
    expect(change?.type === 'update' && change.oldObj.metadata?.resourceVersion).toBe('1');
  });

  it('treats a recreated object (same name, new uid) as a change', () => {
    const s = newStore();
    s.upsert(na('a', '5', 'n1'));
    const again = na('a', '5', 'n1');
    (again.metadata as { uid: string }).uid = 'other';
    expect(s.upsert(again)?.type).toBe('update');
  });

  it('keeps label and field indexes current through updates and deletes', () => {
    const s = newStore();
    s.upsert(na('a', '1', 'n1'));
    s.upsert(na('b', '1', 'n1'));
    s.upsert(na('c', '1', 'n2'));
    expect(s.byIndex('byNode', 'n1').map((o) => o.metadata?.name).sort()).toEqual(['a', 'b']);
    s.upsert(na('a', '2', 'n2'));
    expect(s.byIndex('byNode', 'n1').map((o) => o.metadata?.name)).toEqual(['b']);
    expect(s.byIndex('byNodeName', 'n2').map((o) => o.metadata?.name).sort()).toEqual(['a', 'c']);
    s.remove(na('b', '3', 'n1'));
    expect(s.byIndex('byNode', 'n1')).toEqual([]);
    expect(s.indexValues('byNode')).toEqual(['n2']);
  });

  it('replace reports exactly what a relist changed, deletions carrying the final state', () => {
    const s = newStore();
    s.replace([na('keep', '1', 'n1'), na('change', '1', 'n1'), na('gone', '1', 'n1')]);
    const changes = s.replace([na('keep', '1', 'n1'), na('change', '7', 'n1'), na('new', '8', 'n1')]);
    expect(changes.map((c) => `${c.type}:${c.obj.metadata?.name}`).sort()).toEqual(['add:new', 'delete:gone', 'update:change']);
    expect(s.keys().sort()).toEqual(['ns/change', 'ns/keep', 'ns/new']);
  });

  it('ignores the delete of an object it never held', () => {
    expect(newStore().remove(na('x', '1', 'n1'))).toBeUndefined();
  });

  it('names the known indexes when asked for an unknown one', () => {
    expect(() => newStore().byIndex('byZone', 'z')).toThrow(/no index named "byZone"; known: byNode, byNodeName/);
  });
});
