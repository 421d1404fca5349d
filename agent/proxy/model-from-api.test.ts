import { describe, expect, it } from '@jest/globals';
import type { NodeAssignment, NodeWorkload } from '../../api/index.js';
import { serviceFromWorkload } from './model-from-api.js';

const template = (portName: string, containerPort: number) => ({
  containers: [{ name: 'app', image: 'busybox', ports: [{ name: portName, containerPort }] }],
});

function workload(over: Partial<NodeWorkload['spec']['service']> = {}, clusterIP: string | null = '10.250.0.7'): NodeWorkload {
  return {
    apiVersion: 'shopfloor.dev/v1alpha1',
    kind: 'NodeWorkload',
    metadata: { namespace: 'shop', name: 'web' },
    spec: { placement: { replicas: 2 }, template: template('http', 8080), service: { ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...over } },
    ...(clusterIP ? { status: { clusterIP } } : {}),
  } as NodeWorkload;
}

function assignment(name: string, podIP: string | undefined, ready: boolean, containerPort = 8080, extra: Partial<NodeAssignment['metadata']> = {}, nodeName = 'n1'): NodeAssignment {
  return {
    apiVersion: 'shopfloor.dev/v1alpha1',
    kind: 'NodeAssignment',
    metadata: { namespace: 'shop', name, ...extra },
    spec: { nodeName, workloadRef: { name: 'web' }, revision: 'r1', template: template('http', containerPort) },
    status: { ready, ...(podIP ? { podIP } : {}) },
  } as NodeAssignment;
}

function serviceOf(...args: Parameters<typeof serviceFromWorkload>) {
  const read = serviceFromWorkload(...args);
  expect(read.problems).toEqual([]);
  return read.service;
}

describe('serviceFromWorkload', () => {
  it('takes the VIP from status, defaults the protocol and load balancing, and resolves named target ports per assignment', () => {
    const svc = serviceOf(workload(), [assignment('a', '10.1.0.1', true), assignment('b', '10.1.0.2', true, 9090)], 'n1');
    expect(svc).toEqual({
      namespace: 'shop',
      name: 'web',
      clusterIP: '10.250.0.7',
      loadBalancing: 'Random',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints: [{ ip: '10.1.0.1', port: 8080 }, { ip: '10.1.0.2', port: 9090 }] }],
    });
  });

  it('leaves out assignments that are not ready, have no pod IP, or are being deleted', () => {
    const svc = serviceOf(workload({ ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }], loadBalancing: 'SourceIP' }), [
      assignment('a', '10.1.0.1', false),
      assignment('b', undefined, true),
      assignment('c', '10.1.0.3', true, 8080, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      assignment('d', '10.1.0.4', true),
    ], 'n1');
    expect(svc?.ports).toEqual([{ name: '', protocol: 'UDP', port: 53, nodePort: 30053, endpoints: [{ ip: '10.1.0.4', port: 53 }] }]);
    expect(svc?.loadBalancing).toBe('SourceIP');
  });

  it('is undefined without a service or before the operator allocated the VIP', () => {
    const noService = workload();
    delete (noService.spec as { service?: unknown }).service;
    expect(serviceFromWorkload(noService, [], 'n1')).toEqual({ service: undefined, problems: [] });
    expect(serviceFromWorkload(workload({}, null), [], 'n1')).toEqual({ service: undefined, problems: [] });
  });

  it('marks endpoints on other nodes remote', () => {
    const svc = serviceOf(workload(), [assignment('a', '10.1.0.1', true), assignment('b', '10.2.0.1', true, 8080, {}, 'n2')], 'n1');
    expect(svc?.ports[0]?.endpoints).toEqual([{ ip: '10.1.0.1', port: 8080 }, { ip: '10.2.0.1', port: 8080, remote: true }]);
  });

  // Objects stored past the CRD's schema: each leaves its service out, naming the field, and
  // nothing of it reaches a rule.
  it.each<[string, (w: { spec: Record<string, unknown>; status?: Record<string, unknown>; metadata: Record<string, unknown> }) => void, RegExp]>([
    ['ports as a string', (w) => ((w.spec['service'] as Record<string, unknown>)['ports'] = '80'), /^shop\/web: spec\.service\.ports: must be a list, not the string "80"/],
    ['ports [null]', (w) => ((w.spec['service'] as Record<string, unknown>)['ports'] = [null]), /^shop\/web: spec\.service\.ports\[0\]: must be an object, not null/],
    ['a port name with a newline', (w) => ((w.spec['service'] as Record<string, unknown>)['ports'] = [{ name: 'http\n-A INPUT -j ACCEPT', port: 80 }]), /^shop\/web: spec\.service\.ports\[0\]\.name: must be an IANA service name/],
    ['a port as a string', (w) => ((w.spec['service'] as Record<string, unknown>)['ports'] = [{ port: '80' }]), /^shop\/web: spec\.service\.ports\[0\]\.port: must be a port number from 1 to 65535/],
    ['a targetPort as an object', (w) => ((w.spec['service'] as Record<string, unknown>)['ports'] = [{ port: 80, targetPort: { name: 'http' } }]), /^shop\/web: spec\.service\.ports\[0\]\.targetPort: /],
    ['a protocol in lower case', (w) => ((w.spec['service'] as Record<string, unknown>)['ports'] = [{ port: 80, protocol: 'tcp' }]), /^shop\/web: spec\.service\.ports\[0\]\.protocol: must be one of TCP, UDP/],
    ['an unknown loadBalancing', (w) => ((w.spec['service'] as Record<string, unknown>)['loadBalancing'] = 'LeastConn\n'), /^shop\/web: spec\.service\.loadBalancing: must be one of Random, RoundRobin, SourceIP/],
    ['service as a list', (w) => (w.spec['service'] = [{ port: 80 }]), /^shop\/web: spec\.service: must be an object, not a list/],
    ['clusterIP as a number', (w) => (w.status = { clusterIP: 7 }), /^shop\/web: status\.clusterIP: must be an IPv4 address/],
    ['clusterIP with a newline', (w) => (w.status = { clusterIP: '10.250.0.7\nflush ruleset' }), /^shop\/web: status\.clusterIP: must be an IPv4 address/],
    ['a name with a newline', (w) => (w.metadata['name'] = 'web\n-F'), /^shop\/web\n-F: metadata\.name: must be a DNS-1123 label/],
  ])('leaves out a service with %s, naming the field', (_name, spoil, problem) => {
    const w = workload();
    spoil(w as unknown as Parameters<typeof spoil>[0]);
    const read = serviceFromWorkload(w, [assignment('a', '10.1.0.1', true)], 'n1');
    expect(read.service).toBeUndefined();
    expect(read.problems).toEqual([expect.stringMatching(problem)]);
    expect(read.problems[0]).toMatch(/; its service is left out$/);
  });

  it('takes no endpoint from an assignment whose pod IP or template cannot be read', () => {
    const badIP = { ...assignment('a', undefined, true), status: { ready: true, podIP: '10.1.0.1\nflush ruleset' } } as NodeAssignment;
    const badTemplate = { ...assignment('b', '10.1.0.2', true), spec: { ...assignment('b', '10.1.0.2', true).spec, template: { containers: 'app' } } } as unknown as NodeAssignment;
    expect(serviceOf(workload(), [badIP, badTemplate, assignment('c', '10.1.0.3', true)], 'n1')?.ports[0]?.endpoints).toEqual([{ ip: '10.1.0.3', port: 8080 }]);
  });
});
