import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../kube/fake-clock.js';
import type { Lease } from '../kube/leader-election.js';
import type { ResourceEventHandler } from '../kube/types.js';
import { NodeMonitor, type Cache, type NodeAgentObject } from './node-monitor.js';

/** A cache double: objects by name, and the handlers the monitor registered. */
class FakeCache<T extends { metadata?: { name?: string } }> implements Cache<T> {
  readonly items = new Map<string, T>();
  private readonly handlers: ResourceEventHandler<T>[] = [];
  addEventHandler(h: ResourceEventHandler<T>): void {
    this.handlers.push(h);
  }
  get(key: string): T | undefined {
    return this.items.get(key);
  }
  list(): T[] {
    return [...this.items.values()];
  }
  async waitForSync(): Promise<boolean> {
    return true;
  }
  put(obj: T): void {
    const name = obj.metadata?.name ?? '';
    const old = this.items.get(name);
    this.items.set(name, obj);
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(old, obj);
      else h.onAdd?.(obj);
    }
  }
  drop(name: string): void {
    const old = this.items.get(name);
    this.items.delete(name);
    if (old) for (const h of this.handlers) h.onDelete?.(old);
  }
}

function agent(name: string, labels: Record<string, string> = {}, cpu = '2'): NodeAgentObject {
  return { metadata: { name, labels }, status: { allocatable: { cpu, memory: '1Gi', pods: 10 } } };
}

function lease(name: string, atMs: number): Lease {
  return { metadata: { name, namespace: 'shopfloor-system' }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(atMs).toISOString() } };
}

function setup() {
  const clock = new FakeClock();
  const agents = new FakeCache<NodeAgentObject>();
  const leases = new FakeCache<Lease>();
  const changes: string[] = [];
  const events: string[] = [];
  const monitor = new NodeMonitor({ agents, leases, nodeLossGraceMs: 60_000, clock });
  monitor.addEventHandler({
    onAdd: (n) => (changes.push(n), events.push(`add ${n}`)),
    onUpdate: (_old, n) => (changes.push(n), events.push(`update ${n}`)),
    onDelete: (n) => (changes.push(n), events.push(`delete ${n}`)),
  });
  return { clock, agents, leases, changes, events, monitor };
}

describe('NodeMonitor', () => {
  it('reports a node when it registers, and reads what it offers', () => {
    const { clock, agents, leases, changes, monitor } = setup();
    leases.put(lease('w1', clock.now()));
    agents.put(agent('w1', { disk: 'ssd' }, '1500m'));
    expect(changes).toEqual(['w1']);
    expect(monitor.nodes()).toEqual([
      { name: 'w1', labels: { disk: 'ssd' }, allocatable: { cpuMillis: 1500, memoryBytes: 2 ** 30, pods: 10 }, unschedulable: false, live: true, health: 'Live' },
    ]);
  });

  it('wakes when a Lease expires and when the grace period ends, not on every renewal', async () => {
    const { clock, agents, leases, changes, events, monitor } = setup();
    agents.put(agent('w1'));
    leases.put(lease('w1', clock.now()));
    changes.length = 0;
    for (let i = 0; i < 3; i++) {
      await clock.advance(10_000);
      leases.put(lease('w1', clock.now()));
    }
    expect(changes).toEqual([]);
    await clock.advance(39_999);
    expect(monitor.verdict('w1')?.health).toBe('Live');
    await clock.advance(1);
    expect(changes).toEqual(['w1']);
    expect(monitor.verdict('w1')?.health).toBe('Expired');
    await clock.advance(60_000);
    expect(changes).toEqual(['w1', 'w1']);
    expect(monitor.nodes()[0]).toMatchObject({ health: 'Lost', live: false });
    leases.put(lease('w1', clock.now()));
    expect(changes).toEqual(['w1', 'w1', 'w1']);
    expect(monitor.verdict('w1')?.health).toBe('Live');
    // Registered, renewed (Live), expired, lost, renewed again.
    expect(events).toEqual(['add w1', 'update w1', 'update w1', 'update w1', 'update w1']);
  });

  it('reports label and capacity changes but not status noise', () => {
    const { clock, agents, leases, changes } = setup();
    leases.put(lease('w1', clock.now()));
    agents.put(agent('w1'));
    agents.put({ ...agent('w1'), status: { ...agent('w1').status, pods: 3 } });
    expect(changes).toEqual(['w1']);
    agents.put(agent('w1', { disk: 'ssd' }));
    agents.put(agent('w1', { disk: 'ssd' }, '4'));
    expect(changes).toEqual(['w1', 'w1', 'w1']);
  });

  it('builds the nodes again only when one changes, and then shows the change', async () => {
    const { clock, agents, leases, monitor } = setup();
    agents.put(agent('w1'));
    leases.put(lease('w1', clock.now()));
    const first = monitor.nodes();
    await clock.advance(10_000);
    leases.put(lease('w1', clock.now()));
    agents.put({ ...agent('w1'), status: { ...agent('w1').status, pods: 3 } });
    expect(monitor.nodes()).toBe(first);
    agents.put(agent('w1', { disk: 'ssd' }));
    expect(monitor.nodes()[0]).toMatchObject({ labels: { disk: 'ssd' }, health: 'Live' });
    await clock.advance(40_000);
    expect(monitor.nodes()[0]).toMatchObject({ health: 'Expired', live: false });
    agents.put(agent('w2'));
    expect(monitor.nodes().map((n) => n.name)).toEqual(['w1', 'w2']);
    agents.drop('w1');
    expect(monitor.nodes().map((n) => n.name)).toEqual(['w2']);
  });

  it('treats a node without a Lease as expired, and a removed node as gone', async () => {
    const { clock, agents, changes, events, monitor } = setup();
    agents.put(agent('w1'));
    expect(monitor.verdict('w1')?.health).toBe('Expired');
    agents.drop('w1');
    expect(changes).toEqual(['w1', 'w1']);
    expect(events).toEqual(['add w1', 'delete w1']);
    expect(monitor.verdict('w1')).toBeUndefined();
    expect(monitor.nodes()).toEqual([]);
    await clock.advance(120_000);
    expect(changes).toEqual(['w1', 'w1']);
  });

  it('makes a node with a malformed allocatable unusable rather than failing', () => {
    const { clock, agents, leases, monitor } = setup();
    leases.put(lease('w1', clock.now()));
    agents.put({ metadata: { name: 'w1' }, status: { allocatable: { cpu: 'lots', memory: '1Gi' } } });
    expect(monitor.nodes()[0]?.allocatable).toBeUndefined();
  });
});
