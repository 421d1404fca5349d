// Invalid NodeWorkloads, each with the field error a user must see. `crd` says what the generated
// CRD schema does with the same object: rejects it (the API server refuses it before Shopfloor
// sees it, by the schema's keywords or its CEL rules), accepts it (only Shopfloor's cross-field rules catch it; the operator reports them in
// a Degraded condition), or server (the API server checks it outside the schema: metadata,
// apiVersion, unknown fields).
import { describe, expect, it } from '@jest/globals';
import { validateNodeWorkload, type FieldError } from '../../api/index.js';
import { crdSchemaErrors, type SchemaError } from './crd-schema.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function validWorkload(): { [k: string]: Json } {
  return {
    apiVersion: 'shopfloor.dev/v1alpha1',
    kind: 'NodeWorkload',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      placement: { mode: 'Replicas', replicas: 2, maxPerNode: 1 },
      template: {
        labels: { app: 'web' },
        containers: [
          {
            name: 'web',
            image: 'busybox:stable',
            command: ['httpd', '-f', '-p', '8080'],
            env: [{ name: 'GREETING', value: 'hello' }],
            ports: [{ name: 'http', containerPort: 8080 }],
            resources: { requests: { cpu: '100m', memory: '16Mi' }, limits: { cpu: 1, memory: '64Mi' } },
            readinessProbe: { httpGet: { path: '/', port: 'http' } },
            livenessProbe: { tcpSocket: { port: 8080 } },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
      service: { ports: [{ name: 'http', port: 80, targetPort: 'http' }], loadBalancing: 'Random' },
      updateStrategy: { maxUnavailable: '25%' },
    },
  };
}

/** Sets (or with undefined, deletes) the field at a kubectl-style path such as `spec.a[0].b`. */
function set(root: { [k: string]: Json }, path: string, value: Json | undefined): void {
  const keys = path.split(/\.|(?=\[)/).map((k) => (k.startsWith('[') ? Number(k.slice(1, -1)) : k));
  let node: Json = root;
  keys.forEach((key, i) => {
    const container = node as { [k: string | number]: Json };
    if (i === keys.length - 1) {
      if (value === undefined) delete container[key];
      else container[key] = value;
      return;
    }
    container[key] ??= typeof keys[i + 1] === 'number' ? [] : {};
    node = container[key];
  });
}

interface Case {
  name: string;
  changes: [path: string, value: Json | undefined][];
  path: string;
  message: RegExp;
  crd: 'rejects' | 'accepts' | 'server';
}

const C = 'spec.template.containers[0]';
const P = 'spec.service.ports[0]';

const cases: Case[] = [
  { name: 'unknown placement mode', changes: [['spec.placement.mode', 'All']], path: 'spec.placement.mode', message: /must be one of Replicas, EveryNode/, crd: 'rejects' },
  { name: 'negative replicas', changes: [['spec.placement.replicas', -1]], path: 'spec.placement.replicas', message: /0 or more/, crd: 'rejects' },
  { name: 'fractional replicas', changes: [['spec.placement.replicas', 1.5]], path: 'spec.placement.replicas', message: /whole number, 0 or more/, crd: 'rejects' },
  { name: 'replicas as a string', changes: [['spec.placement.replicas', '3']], path: 'spec.placement.replicas', message: /whole number/, crd: 'rejects' },
  { name: 'Replicas mode without replicas', changes: [['spec.placement.replicas', undefined]], path: 'spec.placement.replicas', message: /required when mode is Replicas/, crd: 'accepts' },
  { name: 'EveryNode with replicas', changes: [['spec.placement.mode', 'EveryNode'], ['spec.placement.maxPerNode', undefined]], path: 'spec.placement.replicas', message: /must not be set when mode is EveryNode/, crd: 'rejects' },
  { name: 'EveryNode with maxPerNode', changes: [['spec.placement.mode', 'EveryNode'], ['spec.placement.replicas', undefined]], path: 'spec.placement.maxPerNode', message: /must not be set when mode is EveryNode/, crd: 'rejects' },
  { name: 'maxPerNode 0', changes: [['spec.placement.maxPerNode', 0]], path: 'spec.placement.maxPerNode', message: /1 or more/, crd: 'rejects' },
  { name: 'nodeSelector value not a string', changes: [['spec.placement.nodeSelector', { zone: 1 }]], path: 'spec.placement.nodeSelector.zone', message: /must be strings/, crd: 'rejects' },
  { name: 'no placement', changes: [['spec.placement', undefined]], path: 'spec.placement', message: /is required \(an object\)/, crd: 'rejects' },
  { name: 'no containers', changes: [['spec.template.containers', []]], path: 'spec.template.containers', message: /at least one container/, crd: 'rejects' },
  { name: 'containers not a list', changes: [['spec.template.containers', 'web']], path: 'spec.template.containers', message: /must be a list, not the string "web"/, crd: 'rejects' },
  { name: 'container name with capitals', changes: [[`${C}.name`, 'Web']], path: `${C}.name`, message: /DNS-1123 label/, crd: 'rejects' },
  { name: 'container name too long', changes: [[`${C}.name`, 'a'.repeat(64)]], path: `${C}.name`, message: /at most 63/, crd: 'rejects' },
  {
    name: 'duplicate container names',
    changes: [['spec.template.containers[1]', { name: 'web', image: 'busybox:stable' }]],
    path: 'spec.template.containers[1].name',
    message: /duplicate container name "web".*must be unique/,
    crd: 'accepts',
  },
  { name: 'empty image', changes: [[`${C}.image`, '']], path: `${C}.image`, message: /image reference such as/, crd: 'rejects' },
  { name: 'missing image', changes: [[`${C}.image`, undefined]], path: `${C}.image`, message: /image reference such as/, crd: 'rejects' },
  { name: 'unknown imagePullPolicy', changes: [[`${C}.imagePullPolicy`, 'Sometimes']], path: `${C}.imagePullPolicy`, message: /one of Always, IfNotPresent, Never/, crd: 'rejects' },
  { name: 'command as one string', changes: [[`${C}.command`, 'httpd -f']], path: `${C}.command`, message: /must be a list, not the string "httpd -f"/, crd: 'rejects' },
  { name: 'env name starting with a digit', changes: [[`${C}.env[0].name`, '1GREETING']], path: `${C}.env[0].name`, message: /environment variable name.*not starting with a digit/, crd: 'rejects' },
  { name: 'env value as a number', changes: [[`${C}.env[0].value`, 3]], path: `${C}.env[0].value`, message: /must be a string, not the number 3/, crd: 'rejects' },
  { name: 'containerPort 0', changes: [[`${C}.ports[0].containerPort`, 0]], path: `${C}.ports[0].containerPort`, message: /port number from 1 to 65535/, crd: 'rejects' },
  { name: 'containerPort too big', changes: [[`${C}.ports[0].containerPort`, 70000]], path: `${C}.ports[0].containerPort`, message: /port number from 1 to 65535/, crd: 'rejects' },
  { name: 'port name with capitals', changes: [[`${C}.ports[0].name`, 'HTTP'], [`${C}.readinessProbe.httpGet.port`, 8080], [`${P}.targetPort`, 8080]], path: `${C}.ports[0].name`, message: /IANA service name/, crd: 'rejects' },
  { name: 'port name longer than 15', changes: [[`${C}.ports[0].name`, 'web-server-http1']], path: `${C}.ports[0].name`, message: /at most 15/, crd: 'rejects' },
  { name: 'port name without a letter', changes: [[`${C}.ports[0].name`, '8080'], [`${C}.readinessProbe.httpGet.port`, 8080], [`${P}.targetPort`, 8080]], path: `${C}.ports[0].name`, message: /at least one letter/, crd: 'accepts' },
  {
    name: 'duplicate port names across containers',
    changes: [['spec.template.containers[1]', { name: 'side', image: 'busybox:stable', ports: [{ name: 'http', containerPort: 9090 }] }]],
    path: 'spec.template.containers[1].ports[0].name',
    message: /duplicate port name "http".*unique across containers/,
    crd: 'accepts',
  },
  {
    name: 'the same container port twice',
    changes: [[`${C}.ports[1]`, { name: 'again', containerPort: 8080 }]],
    path: `${C}.ports[1].containerPort`,
    message: /duplicate port 8080\/TCP/,
    crd: 'accepts',
  },
  { name: 'SCTP protocol', changes: [[`${C}.ports[0].protocol`, 'SCTP']], path: `${C}.ports[0].protocol`, message: /one of TCP, UDP/, crd: 'rejects' },
  { name: 'cpu in words', changes: [[`${C}.resources.requests.cpu`, '1 core']], path: `${C}.resources.requests.cpu`, message: /Kubernetes quantity/, crd: 'rejects' },
  { name: 'fractional cpu as a number', changes: [[`${C}.resources.limits.cpu`, 0.5]], path: `${C}.resources.limits.cpu`, message: /quote fractions/, crd: 'rejects' },
  { name: 'negative memory', changes: [[`${C}.resources.limits.memory`, -1]], path: `${C}.resources.limits.memory`, message: /Kubernetes quantity: a whole number 0 or more/, crd: 'rejects' },
  { name: 'memory with a lowercase suffix', changes: [[`${C}.resources.limits.memory`, '64mi']], path: `${C}.resources.limits.memory`, message: /suffix m, k, M, G/, crd: 'rejects' },
  { name: 'requests above limits', changes: [[`${C}.resources.requests.memory`, '1Gi']], path: `${C}.resources.requests.memory`, message: /less than or equal to limits.memory \(64Mi\)/, crd: 'accepts' },
  { name: 'probe without a handler', changes: [[`${C}.livenessProbe`, { periodSeconds: 5 }]], path: `${C}.livenessProbe`, message: /exactly one of exec, httpGet, tcpSocket \(found none\)/, crd: 'accepts' },
  {
    name: 'probe with two handlers',
    changes: [[`${C}.livenessProbe.exec`, { command: ['true'] }]],
    path: `${C}.livenessProbe`,
    message: /exactly one of exec, httpGet, tcpSocket \(found exec, tcpSocket\)/,
    crd: 'accepts',
  },
  { name: 'probe period 0', changes: [[`${C}.livenessProbe.periodSeconds`, 0]], path: `${C}.livenessProbe.periodSeconds`, message: /1 or more/, crd: 'rejects' },
  { name: 'liveness successThreshold 2', changes: [[`${C}.livenessProbe.successThreshold`, 2]], path: `${C}.livenessProbe.successThreshold`, message: /must be 1 for liveness and startup probes/, crd: 'accepts' },
  { name: 'probe on a port name the container lacks', changes: [[`${C}.readinessProbe.httpGet.port`, 'metrics']], path: `${C}.readinessProbe.httpGet.port`, message: /no port named "metrics"/, crd: 'accepts' },
  { name: 'probe on port 0', changes: [[`${C}.livenessProbe.tcpSocket.port`, 0]], path: `${C}.livenessProbe.tcpSocket.port`, message: /port number from 1 to 65535 or the name/, crd: 'rejects' },
  { name: 'FTP probe scheme', changes: [[`${C}.readinessProbe.httpGet.scheme`, 'FTP']], path: `${C}.readinessProbe.httpGet.scheme`, message: /one of HTTP, HTTPS/, crd: 'rejects' },
  { name: 'exec probe without a command', changes: [[`${C}.livenessProbe`, { exec: { command: [] } }]], path: `${C}.livenessProbe.exec.command`, message: /must name a command/, crd: 'rejects' },
  { name: 'unknown restartPolicy', changes: [['spec.template.restartPolicy', 'Sometimes']], path: 'spec.template.restartPolicy', message: /one of Always, OnFailure, Never/, crd: 'rejects' },
  { name: 'negative grace period', changes: [['spec.template.terminationGracePeriodSeconds', -5]], path: 'spec.template.terminationGracePeriodSeconds', message: /0 or more/, crd: 'rejects' },
  { name: 'volume with two sources', changes: [['spec.template.volumes[0].hostPath', { path: '/srv' }]], path: 'spec.template.volumes[0]', message: /exactly one of emptyDir, hostPath \(found emptyDir, hostPath\)/, crd: 'accepts' },
  { name: 'relative hostPath', changes: [['spec.template.volumes[0]', { name: 'data', hostPath: { path: 'srv' } }]], path: 'spec.template.volumes[0].hostPath.path', message: /absolute path/, crd: 'rejects' },
  { name: 'unknown emptyDir medium', changes: [['spec.template.volumes[0].emptyDir.medium', 'Disk']], path: 'spec.template.volumes[0].emptyDir.medium', message: /"" \(node disk\) or Memory/, crd: 'rejects' },
  { name: 'mount of a missing volume', changes: [[`${C}.volumeMounts[0].name`, 'cache']], path: `${C}.volumeMounts[0].name`, message: /no volume named "cache".*mount one of data/, crd: 'accepts' },
  { name: 'relative mountPath', changes: [[`${C}.volumeMounts[0].mountPath`, 'data']], path: `${C}.volumeMounts[0].mountPath`, message: /absolute path/, crd: 'rejects' },
  { name: 'service without ports', changes: [['spec.service.ports', []]], path: 'spec.service.ports', message: /at least one port/, crd: 'rejects' },
  { name: 'service port 0', changes: [[`${P}.port`, 0]], path: `${P}.port`, message: /port number from 1 to 65535/, crd: 'rejects' },
  { name: 'targetPort naming no container port', changes: [[`${P}.targetPort`, 'https']], path: `${P}.targetPort`, message: /no container port named "https": use a port number or one of http/, crd: 'accepts' },
  { name: 'targetPort too big', changes: [[`${P}.targetPort`, 70000]], path: `${P}.targetPort`, message: /port number from 1 to 65535 or the name of a container port/, crd: 'rejects' },
  { name: 'targetPort true', changes: [[`${P}.targetPort`, true]], path: `${P}.targetPort`, message: /port number from 1 to 65535 or the name of a container port/, crd: 'rejects' },
  { name: 'nodePort outside the range', changes: [[`${P}.nodePort`, 8080]], path: `${P}.nodePort`, message: /from 30000 to 32767/, crd: 'rejects' },
  { name: 'two unnamed service ports', changes: [[`${P}.name`, undefined], ['spec.service.ports[1]', { port: 81, targetPort: 8080 }]], path: `${P}.name`, message: /required when the service has more than one port/, crd: 'accepts' },
  { name: 'the same service port twice', changes: [['spec.service.ports[1]', { name: 'again', port: 80 }]], path: 'spec.service.ports[1].port', message: /duplicate port 80\/TCP/, crd: 'accepts' },
  { name: 'the same nodePort twice', changes: [[`${P}.nodePort`, 30080], ['spec.service.ports[1]', { name: 'b', port: 81, nodePort: 30080 }]], path: 'spec.service.ports[1].nodePort', message: /duplicate nodePort 30080/, crd: 'accepts' },
  { name: 'clusterIP out of range', changes: [['spec.service.clusterIP', '10.0.0.256']], path: 'spec.service.clusterIP', message: /IPv4 address such as/, crd: 'rejects' },
  { name: 'IPv6 clusterIP', changes: [['spec.service.clusterIP', 'fd00::1']], path: 'spec.service.clusterIP', message: /IPv4 address/, crd: 'rejects' },
  { name: 'unknown loadBalancing', changes: [['spec.service.loadBalancing', 'LeastConn']], path: 'spec.service.loadBalancing', message: /one of Random, RoundRobin, SourceIP/, crd: 'rejects' },
  { name: 'maxUnavailable 150%', changes: [['spec.updateStrategy.maxUnavailable', '150%']], path: 'spec.updateStrategy.maxUnavailable', message: /percentage from 1% to 100%/, crd: 'rejects' },
  { name: 'negative maxUnavailable', changes: [['spec.updateStrategy.maxUnavailable', -1]], path: 'spec.updateStrategy.maxUnavailable', message: /whole number 1 or more/, crd: 'rejects' },
  { name: 'maxUnavailable 0 (would block every update)', changes: [['spec.updateStrategy.maxUnavailable', 0]], path: 'spec.updateStrategy.maxUnavailable', message: /1 or more.*0 would block every update/, crd: 'rejects' },
  { name: 'maxUnavailable 0%', changes: [['spec.updateStrategy.maxUnavailable', '0%']], path: 'spec.updateStrategy.maxUnavailable', message: /percentage from 1% to 100%/, crd: 'rejects' },
  { name: 'no spec', changes: [['spec', undefined]], path: 'spec', message: /is required \(an object\)/, crd: 'rejects' },
  { name: 'another apiVersion', changes: [['apiVersion', 'apps/v1']], path: 'apiVersion', message: /must be shopfloor.dev\/v1alpha1/, crd: 'server' },
  { name: 'another kind', changes: [['kind', 'Deployment']], path: 'kind', message: /must be NodeWorkload/, crd: 'server' },
  { name: 'name that is not a DNS label', changes: [['metadata.name', 'Web_1']], path: 'metadata.name', message: /DNS-1123 label/, crd: 'server' },
  { name: 'label value not a string', changes: [['metadata.labels.app', 1]], path: 'metadata.labels.app', message: /must be a string, not the number 1/, crd: 'server' },
  { name: 'misspelt field', changes: [['spec.placement.replica', 3]], path: 'spec.placement.replica', message: /unknown field: `kubectl explain nodeworkload.spec.placement`/, crd: 'server' },
];

function pointer(path: string): string {
  return `/${path.replace(/\[(\d+)\]/g, '.$1').split('.').join('/')}`;
}

/** Whether ajv named the field: the field itself, or its parent missing it as required. */
function namesField(errors: SchemaError[], path: string): boolean {
  const at = pointer(path);
  const parent = at.slice(0, at.lastIndexOf('/')) || '/';
  const field = at.slice(at.lastIndexOf('/') + 1);
  return errors.some((e) => e.path === at || e.path.startsWith(`${at}/`) || (e.path === parent && e.message.includes(`'${field}'`)));
}

describe('the valid workload the cases start from', () => {
  it('passes both schemas', () => {
    const r = validateNodeWorkload(validWorkload());
    expect(r.ok ? [] : r.errors).toEqual([]);
    expect(crdSchemaErrors('NodeWorkload', validWorkload())).toEqual([]);
  });
});

describe('invalid NodeWorkloads', () => {
  // The count is named exactly: a case that is dropped, or one added without being counted here, fails it.
  it('are 71, each under its own name', () => {
    expect(cases).toHaveLength(71);
    expect(new Set(cases.map((c) => c.name)).size).toBe(71);
  });

  describe.each(cases)('$name', ({ changes, path, message, crd }) => {
    const object = validWorkload();
    for (const [p, v] of changes) set(object, p, v);

    it(`zod: ${path} says what is allowed`, () => {
      let result: ReturnType<typeof validateNodeWorkload> | undefined;
      expect(() => (result = validateNodeWorkload(object))).not.toThrow();
      expect(result?.ok).toBe(false);
      const errors: FieldError[] = result && !result.ok ? result.errors : [];
      expect(errors).toContainEqual({ path, message: expect.stringMatching(message) });
    });

    if (crd === 'rejects') {
      it('the CRD schema rejects it at the same field', () => {
        const errors = crdSchemaErrors('NodeWorkload', object);
        expect(errors.length).toBeGreaterThan(0);
        expect([namesField(errors, path), errors]).toEqual([true, errors]);
      });
    } else if (crd === 'accepts') {
      it('the CRD schema accepts it (a cross-field rule: the operator reports it as Degraded)', () => {
        expect(crdSchemaErrors('NodeWorkload', object)).toEqual([]);
      });
    }
  });
});
