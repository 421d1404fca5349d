import { describe, expect, it } from '@jest/globals';
import type { NodeAgent } from '../../api/index.js';
import { mergePatchBetween } from '../../kube/status.js';
import { newNodeAgent, nodeAgentStatus, nodeLabels, registrationPatch, type StatusInput } from './node-status.js';

const T = new Date('2026-01-01T12:00:00Z');
const resources = { cpu: '2', memory: '24683664Ki', pods: 110 };

function input(over: Partial<StatusInput> = {}): StatusInput {
  return {
    previous: undefined,
    generation: 1,
    capacity: resources,
    allocatable: resources,
    runtime: { ok: true, runtimeName: 'containerd', runtimeVersion: '1.6.20' },
    agentVersion: '0.1.0',
    proxyMode: 'nftables',
    nodeAddresses: ['10.0.0.5'],
    hostname: 'worker-1',
    pods: 0,
    now: T,
    ...over,
  };
}

describe('nodeLabels', () => {
  it('sets hostname, OS and architecture as Kubernetes names them, then the flag labels, then managed-by', () => {
    expect(nodeLabels({ hostname: 'Worker-1', platform: 'linux', arch: 'x64', labels: { zone: 'a', 'kubernetes.io/arch': 'custom', 'app.kubernetes.io/managed-by': 'me' } })).toEqual({
      'kubernetes.io/hostname': 'worker-1',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'custom',
      zone: 'a',
      'app.kubernetes.io/managed-by': 'shopfloor',
    });
  });
});

describe('registrationPatch', () => {
  const labels = { zone: 'a', 'app.kubernetes.io/managed-by': 'shopfloor' };

  it('is nothing when the NodeAgent already has the labels and pod CIDR', () => {
    const agent: NodeAgent = { ...newNodeAgent('n1', { ...labels, extra: 'x' }, '10.244.1.0/24'), spec: { podCIDR: '10.244.1.0/24', unschedulable: true } };
    expect(registrationPatch(agent, labels, '10.244.1.0/24')).toBeUndefined();
  });

  it('sets changed labels and the pod CIDR, never touching unschedulable or other labels', () => {
    const agent: NodeAgent = { ...newNodeAgent('n1', { zone: 'b', extra: 'x' }, undefined), spec: { unschedulable: true } };
    expect(registrationPatch(agent, labels, '10.244.1.0/24')).toEqual({
      metadata: { labels: { zone: 'a', 'app.kubernetes.io/managed-by': 'shopfloor' } },
      spec: { podCIDR: '10.244.1.0/24' },
    });
  });

  it('creates a NodeAgent without unschedulable, so an admin setting stays the admin\'s', () => {
    expect(newNodeAgent('n1', labels, undefined)).toEqual({ apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeAgent', metadata: { name: 'n1', labels }, spec: {} });
  });
});

describe('nodeAgentStatus', () => {
  it('reports capacity, software, addresses, replicas and Ready', () => {
    expect(nodeAgentStatus(input({ pods: 3 }))).toEqual({
      capacity: resources,
      allocatable: resources,
      nodeInfo: { runtimeName: 'containerd', runtimeVersion: '1.6.20', agentVersion: '0.1.0', proxyMode: 'nftables' },
      addresses: [
        { type: 'InternalIP', address: '10.0.0.5' },
        { type: 'Hostname', address: 'worker-1' },
      ],
      pods: 3,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'AgentReady',
          message: 'agent 0.1.0 is registered; container runtime containerd 1.6.20 answers',
          lastTransitionTime: '2026-01-01T12:00:00Z',
          observedGeneration: 1,
        },
      ],
    });
  });

  it('changes nothing when recomputed later from the same facts: no write', () => {
    const first = nodeAgentStatus(input());
    const again = nodeAgentStatus(input({ previous: first, now: new Date(T.getTime() + 60_000) }));
    expect(mergePatchBetween(first, again)).toBeUndefined();
  });

  it('reports the service rules with their last sync to the second, and a failing sync\'s error cut short', () => {
    expect(nodeAgentStatus(input({ proxy: { lastSyncTime: Date.parse('2026-01-01T12:00:07.654Z'), servicePorts: 4, rules: 30, inSync: true } })).proxy).toEqual({ lastSyncTime: '2026-01-01T12:00:07Z', servicePorts: 4, rules: 30, inSync: true });
    const failing = nodeAgentStatus(input({ proxy: { servicePorts: 0, rules: 0, inSync: false, error: `nft: ${'x'.repeat(400)}` } })).proxy;
    expect(failing).toMatchObject({ inSync: false, servicePorts: 0, rules: 0 });
    expect(failing?.message).toHaveLength(300);
    expect(failing?.lastSyncTime).toBeUndefined();
  });

  it('announces the log server once it listens, and drops it when it no longer does', () => {
    const logServer = { address: '10.0.0.5', port: 10350, caBundle: 'Y2E=' };
    const first = nodeAgentStatus(input());
    const serving = nodeAgentStatus(input({ previous: first, daemonEndpoints: { logServer } }));
    expect(mergePatchBetween(first, serving)).toEqual({ daemonEndpoints: { logServer } });
    expect(mergePatchBetween(serving, nodeAgentStatus(input({ previous: serving })))).toEqual({ daemonEndpoints: null });
  });

  it('writes only what changed', () => {
    const first = nodeAgentStatus(input());
    const later = nodeAgentStatus(input({ previous: first, pods: 2, now: new Date(T.getTime() + 10_000) }));
    expect(mergePatchBetween(first, later)).toEqual({ pods: 2 });
  });

  it('flips Ready to False with the runtime error, keeping the runtime last seen, and moves lastTransitionTime only on flips', () => {
    const up = nodeAgentStatus(input());
    const t1 = new Date(T.getTime() + 10_000);
    const down = nodeAgentStatus(input({ previous: up, now: t1, runtime: { ok: false, error: 'Version: 14 UNAVAILABLE: connect ENOENT /run/containerd.sock' } }));
    expect(down.nodeInfo).toEqual(up.nodeInfo);
    expect(down.conditions).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'RuntimeUnreachable',
        message: 'container runtime unreachable: Version: 14 UNAVAILABLE: connect ENOENT /run/containerd.sock',
        lastTransitionTime: '2026-01-01T12:00:10Z',
        observedGeneration: 1,
      },
    ]);
    const stillDown = nodeAgentStatus(input({ previous: down, now: new Date(T.getTime() + 20_000), runtime: { ok: false, error: 'Version: 14 UNAVAILABLE: connect ENOENT /run/containerd.sock' } }));
    expect(mergePatchBetween(down, stillDown)).toBeUndefined();
    const back = nodeAgentStatus(input({ previous: stillDown, now: new Date(T.getTime() + 30_000) }));
    expect(back.conditions?.[0]).toMatchObject({ status: 'True', reason: 'AgentReady', lastTransitionTime: '2026-01-01T12:00:30Z' });
  });

  it('keeps conditions other writers added', () => {
    const other = { type: 'DiskPressure', status: 'False' as const, reason: 'Fine', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' };
    const s = nodeAgentStatus(input({ previous: { conditions: [other] } }));
    expect(s.conditions?.map((c) => c.type)).toEqual(['DiskPressure', 'Ready']);
  });

  it('reports no runtime name or version when the runtime never answered', () => {
    expect(nodeAgentStatus(input({ runtime: { ok: false, error: 'down' } })).nodeInfo).toEqual({ agentVersion: '0.1.0', proxyMode: 'nftables' });
  });
});
