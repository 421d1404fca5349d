import { describe, expect, it } from '@jest/globals';
import { builtinResources } from './builtins.js';
import { parseIpv4Range, pickClusterIp } from './cluster-ips.js';
import type { KubeObject } from './object.js';
import type { ResourceInfo } from './registry.js';
import { defaultService } from './service-defaults.js';
import { keepAllocatedIps, validateService } from './service-rules.js';
import { buildTable } from '../http/tables.js';
import { builtinListTypes } from './list-types.js';
import { strategicMergePatch } from '../patch/strategic.js';

const service = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'web', namespace: 'n' }, spec });
const range = parseIpv4Range('10.96.0.0/12');

describe('Service defaults', () => {
  it('gives a ClusterIP Service what kube-apiserver stores, a port its protocol and target port', () => {
    const s = service({ clusterIP: '10.96.0.9', ports: [{ port: 80, targetPort: 'http' }, { port: 53, protocol: 'UDP' }] });
    defaultService(s);
    expect(s.spec).toEqual({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      clusterIP: '10.96.0.9',
      clusterIPs: ['10.96.0.9'],
      ports: [{ port: 80, targetPort: 'http', protocol: 'TCP' }, { port: 53, protocol: 'UDP', targetPort: 53 }],
    });
  });

  it('leaves an ExternalName Service without IP fields, and gives LoadBalancers their traffic policy and node ports flag', () => {
    const external = service({ type: 'ExternalName', externalName: 'example.com' });
    defaultService(external);
    expect(external.spec).toEqual({ type: 'ExternalName', externalName: 'example.com', sessionAffinity: 'None' });
    const lb = service({ type: 'LoadBalancer', ports: [{ port: 443 }] });
    defaultService(lb);
    expect(lb.spec).toMatchObject({ externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true });
  });
});

describe('Service rules', () => {
  it('refuses ports out of 1..65535 and unnamed ones among several, naming each field', () => {
    const causes = validateService(service({ ports: [{ port: 0, targetPort: 0 }, { name: 'b', port: 70000, targetPort: 'http' }] }), undefined);
    expect(causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.ports[0].name: Required value',
      'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    expect(validateService(service({}), undefined).map((c) => c.field)).toEqual(['spec.ports']);
    expect(validateService(service({ clusterIP: 'None' }), undefined)).toEqual([]);
  });

  it('keeps the allocated cluster IP of an update that leaves it out, and refuses one that changes it', () => {
    const current = service({ type: 'ClusterIP', clusterIP: '10.96.0.2', clusterIPs: ['10.96.0.2'], ports: [{ port: 80 }] });
    const replaced = service({ type: 'ClusterIP', ports: [{ port: 81 }] });
    keepAllocatedIps(replaced, current);
    expect(replaced.spec).toMatchObject({ clusterIP: '10.96.0.2', clusterIPs: ['10.96.0.2'] });
    expect(validateService(replaced, current)).toEqual([]);
    const changed = service({ type: 'ClusterIP', clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.2'], ports: [{ port: 80 }] });
    expect(validateService(changed, current)).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: 'Invalid value: ["10.96.0.7"]: may not change once set' }]);
  });

  it('allocates the lowest free address after the first, honours a free requested one, and refuses a taken or outside one', () => {
    expect(pickClusterIp(range, new Set(), undefined)).toEqual({ ip: '10.96.0.2' });
    expect(pickClusterIp(range, new Set(['10.96.0.2', '10.96.0.3']), undefined)).toEqual({ ip: '10.96.0.4' });
    expect(pickClusterIp(range, new Set(), '10.100.3.4')).toEqual({ ip: '10.100.3.4' });
    expect(pickClusterIp(range, new Set(['10.96.0.2']), '10.96.0.2')).toEqual({ cause: { reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: 'Invalid value: ["10.96.0.2"]: failed to allocate IP 10.96.0.2: provided IP is already allocated' } });
    for (const outside of ['192.0.2.1', '10.96.0.0', '10.111.255.255']) {
      expect(pickClusterIp(range, new Set(), outside)).toEqual({ cause: expect.objectContaining({ message: `Invalid value: ["${outside}"]: failed to allocate IP ${outside}: the provided network does not match the current range` }) });
    }
    expect(pickClusterIp(range, new Set(), 'ten')).toEqual({ cause: expect.objectContaining({ field: 'spec.clusterIPs[0]' }) });
    expect(() => parseIpv4Range('10.96.0.0')).toThrow('must be an IPv4 CIDR');
  });

  it('prints the columns kubectl shows', () => {
    const info = builtinResources().find((i) => i.resource === 'services') as ResourceInfo;
    const rows = [
      service({ type: 'ClusterIP', clusterIPs: ['10.96.0.2'], ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { app: 'web' } }),
      service({ type: 'NodePort', clusterIPs: ['None'], externalIPs: ['192.0.2.1'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] }),
      service({ type: 'LoadBalancer', clusterIPs: ['10.96.0.3'], ports: [] }),
      service({ type: 'ExternalName', externalName: 'example.com' }),
    ];
    const table = buildTable(info.versions[0]!.printerColumns, rows, {}, 'None') as { rows: { cells: unknown[] }[] };
    expect(table.rows.map((r) => r.cells.filter((_, i) => i !== 5))).toEqual([
      ['web', 'ClusterIP', '10.96.0.2', '<none>', '80/TCP,53/UDP', 'app=web'],
      ['web', 'NodePort', 'None', '192.0.2.1', '80:30080/TCP', '<none>'],
      ['web', 'LoadBalancer', '10.96.0.3', '<pending>', '<none>', '<none>'],
      ['web', 'ExternalName', '<none>', 'example.com', '<none>', '<none>'],
    ]);
  });

  it('merges ports by port in a strategic merge patch, and pod template lists by their keys', () => {
    const live = { spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }], template: { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80, protocol: 'TCP' }] }] } } } };
    const patched = strategicMergePatch(live, { spec: { ports: [{ port: 80, targetPort: 8080 }], template: { spec: { containers: [{ name: 'c', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 80, name: 'http' }] }] } } } }, builtinListTypes);
    expect(patched).toEqual({ spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], template: { spec: { containers: [{ name: 'c', env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }], ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }] }] } } } });
  });
});
