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

describe('serviceFromWorkload', () => {
  it('takes the VIP from status, defaults the protocol and load balancing, and resolves named target ports per assignment', () => {
    const svc = serviceFromWorkload(workload(), [assignment('a', '10.1.0.1', true), assignment('b', '10.1.0.2', true, 9090)], 'n1');
    expect(svc).toEqual({
      namespace: 'shop',
      name: 'web',
      clusterIP: '10.250.0.7',
      loadBalancing: 'Random',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints: [{ ip: '10.1.0.1', port: 8080 }, { ip: '10.1.0.2', port: 9090 }] }],
    });
  });

  it('leaves out assignments that are not ready, have no pod IP, or are being deleted', () => {
    const svc = serviceFromWorkload(workload({ ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }], loadBalancing: 'SourceIP' }), [
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
    expect(serviceFromWorkload(noService, [], 'n1')).toBeUndefined();
    expect(serviceFromWorkload(workload({}, null), [], 'n1')).toBeUndefined();
  });

  it('marks endpoints on other nodes remote', () => {
    const svc = serviceFromWorkload(workload(), [assignment('a', '10.1.0.1', true), assignment('b', '10.2.0.1', true, 8080, {}, 'n2')], 'n1');
    expect(svc?.ports[0]?.endpoints).toEqual([{ ip: '10.1.0.1', port: 8080 }, { ip: '10.2.0.1', port: 8080, remote: true }]);
  });
});
