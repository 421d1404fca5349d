import { describe, expect, it } from '@jest/globals';
import { effectivePullPolicy, namedPorts, type TemplateInput } from './template.js';
import { validateNodeAssignment, validateNodeWorkload } from './validate.js';

describe('effectivePullPolicy', () => {
  it.each([
    ['busybox', 'Always'],
    ['busybox:latest', 'Always'],
    ['docker.io/library/busybox:latest', 'Always'],
    ['busybox:1.36', 'IfNotPresent'],
    ['shopfloor.dev/busybox:test', 'IfNotPresent'],
    ['localhost:5000/busybox', 'Always'],
    ['localhost:5000/busybox:1.36', 'IfNotPresent'],
    ['busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'IfNotPresent'],
  ])('%s pulls %s by default', (image, policy) => {
    expect(effectivePullPolicy({ image })).toBe(policy);
  });

  it('keeps a policy that is set', () => {
    expect(effectivePullPolicy({ image: 'busybox:latest', imagePullPolicy: 'Never' })).toBe('Never');
    expect(effectivePullPolicy({ image: 'busybox:1.36', imagePullPolicy: 'Always' })).toBe('Always');
  });
});

const minimal = {
  apiVersion: 'shopfloor.dev/v1alpha1',
  kind: 'NodeWorkload',
  metadata: { name: 'web' },
  spec: {
    placement: { replicas: 1 },
    template: {
      containers: [
        {
          name: 'web',
          image: 'busybox',
          ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }],
          livenessProbe: { httpGet: { port: 'http' } },
        },
        { name: 'side', image: 'busybox:1.36' },
      ],
    },
    service: { ports: [{ port: 80 }] },
    updateStrategy: {},
  },
};

describe('Kubernetes defaults', () => {
  it('fills probe timing 0/10/1/1/3, restartPolicy, grace period, protocol, pull policy and service defaults', () => {
    const r = validateNodeWorkload(minimal);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const { placement, template, service, updateStrategy } = r.value.spec;
    expect(placement.mode).toBe('Replicas');
    expect(template.restartPolicy).toBe('Always');
    expect(template.terminationGracePeriodSeconds).toBe(30);
    expect(template.containers.map((c) => c.imagePullPolicy)).toEqual(['Always', 'IfNotPresent']);
    expect(template.containers[0]?.ports?.map((p) => p.protocol)).toEqual(['TCP', 'UDP']);
    expect(template.containers[0]?.livenessProbe).toEqual({
      httpGet: { path: '/', port: 'http', scheme: 'HTTP' },
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(service).toEqual({ ports: [{ port: 80, protocol: 'TCP' }], loadBalancing: 'Random' });
    expect(updateStrategy).toEqual({ maxUnavailable: 1 });
  });

  it('fills the pull policy in a NodeAssignment template too', () => {
    const r = validateNodeAssignment({
      apiVersion: 'shopfloor.dev/v1alpha1',
      kind: 'NodeAssignment',
      metadata: { name: 'web-abc', namespace: 'default' },
      spec: { nodeName: 'node-1', workloadRef: { name: 'web' }, revision: 'abc', template: { containers: [{ name: 'web', image: 'busybox:latest' }] } },
    });
    expect(r.ok && r.value.spec.template.containers[0]?.imagePullPolicy).toBe('Always');
  });
});

describe('namedPorts', () => {
  it('maps every named container port to its number and protocol', () => {
    const template: TemplateInput = {
      containers: [{ name: 'web', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9090 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }],
    };
    expect([...namedPorts(template)]).toEqual([
      ['http', { containerPort: 8080, protocol: 'TCP' }],
      ['dns', { containerPort: 53, protocol: 'UDP' }],
    ]);
  });
});
