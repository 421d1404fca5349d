import { describe, expect, it } from '@jest/globals';
import { builtinResources } from './builtins.js';
import type { KubeObject } from './object.js';
import type { ResourceInfo } from './registry.js';
import { defaultDaemonSet, defaultDeployment, defaultPullPolicy } from './workload-defaults.js';
import { setTemplateGeneration, TEMPLATE_GENERATION, validateWorkload } from './workload-rules.js';
import { prepareCreate, setGeneration } from './object-rules.js';
import { buildTable } from '../http/tables.js';

const resource = (name: string): ResourceInfo => builtinResources().find((i) => i.resource === name) as ResourceInfo;
const deployment = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'web', namespace: 'n' }, spec });
const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } };

describe('Deployment and DaemonSet defaults', () => {
  it('gives a Deployment, its pod template and containers the defaults kube-apiserver stores', () => {
    const d = deployment({ selector: { matchLabels: { app: 'web' } }, template: structuredClone(template) });
    defaultDeployment(d);
    expect(d.spec).toEqual({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'c', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {}, ports: [{ containerPort: 80, protocol: 'TCP' }] }],
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
          schedulerName: 'default-scheduler',
          terminationGracePeriodSeconds: 30,
          securityContext: {},
        },
      },
    });
  });

  it('keeps what the request sets, zero replicas included', () => {
    const d = deployment({ replicas: 0, strategy: { type: 'Recreate' }, template: { spec: { restartPolicy: 'Always', containers: [] } } });
    defaultDeployment(d);
    expect(d.spec).toMatchObject({ replicas: 0, strategy: { type: 'Recreate' } });
    expect((d.spec as { strategy: object }).strategy).not.toHaveProperty('rollingUpdate');
  });

  it("gives a DaemonSet its update strategy, and probes, volumes, env and the service account what kube-apiserver gives them", () => {
    const ds = deployment({
      template: {
        spec: {
          serviceAccountName: 'agent',
          containers: [{ name: 'c', image: 'x', env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }], livenessProbe: { httpGet: { port: 80 } } }],
          volumes: [{ name: 's', secret: { secretName: 's' } }, { name: 'h', hostPath: { path: '/x' } }, { name: 'e' }],
        },
      },
    });
    defaultDaemonSet(ds);
    const spec = ds.spec as { updateStrategy: unknown; revisionHistoryLimit: number; template: { spec: { serviceAccount: string; containers: Record<string, unknown>[]; volumes: unknown[] } } };
    expect(spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(spec.revisionHistoryLimit).toBe(10);
    const pod = spec.template.spec;
    expect(pod.serviceAccount).toBe('agent');
    expect(pod.containers[0]).toMatchObject({ imagePullPolicy: 'Always', env: [{ valueFrom: { fieldRef: { apiVersion: 'v1' } } }], livenessProbe: { httpGet: { path: '/', scheme: 'HTTP', port: 80 }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 } });
    expect(pod.volumes).toEqual([{ name: 's', secret: { secretName: 's', defaultMode: 420 } }, { name: 'h', hostPath: { path: '/x', type: '' } }, { name: 'e', emptyDir: {} }]);
  });

  it('pulls :latest and untagged images always, tagged and digested ones if not present', () => {
    expect(['nginx', 'nginx:latest', 'registry:5000/nginx', 'nginx:1.27', 'registry:5000/nginx:1', 'nginx@sha256:abc'].map(defaultPullPolicy)).toEqual(['Always', 'Always', 'Always', 'IfNotPresent', 'IfNotPresent', 'IfNotPresent']);
  });
});

describe('Deployment and DaemonSet rules', () => {
  const fields = (causes: { field?: string }[]): (string | undefined)[] => causes.map((c) => c.field);

  it('takes a selector that matches the template, and refuses one that does not, naming the labels as kube-apiserver does', () => {
    expect(validateWorkload('Deployment', deployment({ selector: { matchLabels: { app: 'web' } }, template }), undefined)).toEqual([]);
    expect(validateWorkload('Deployment', deployment({ selector: { matchLabels: { app: 'other' } }, template }), undefined)).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: 'Invalid value: {"app":"web"}: `selector` does not match template `labels`' },
    ]);
    expect(validateWorkload('Deployment', deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] }, template }), undefined)).toEqual([]);
  });

  it('requires a Deployment selector; a DaemonSet without one selects nothing', () => {
    expect(fields(validateWorkload('Deployment', deployment({ template }), undefined))).toEqual(['spec.selector', 'spec.template.metadata.labels']);
    expect(fields(validateWorkload('DaemonSet', deployment({ template }), undefined))).toEqual(['spec.template.metadata.labels']);
    expect(validateWorkload('DaemonSet', deployment({ selector: {}, template }), undefined)[0]?.message).toBe('Invalid value: {}: empty selector is invalid for daemonset');
  });

  it('requires containers with names and images, restartPolicy Always, and no negative replicas', () => {
    const causes = validateWorkload('Deployment', deployment({ replicas: -1, selector: { matchLabels: { app: 'web' } }, template: { metadata: template.metadata, spec: { restartPolicy: 'Never', containers: [{}] } } }), undefined);
    expect(causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.spec.containers[0].name: Required value',
      'spec.template.spec.containers[0].image: Required value',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
    expect(fields(validateWorkload('Deployment', deployment({ selector: { matchLabels: { app: 'web' } } }), undefined))).toEqual(['spec.template.metadata.labels', 'spec.template.spec.containers']);
  });

  it('refuses a changed selector on update (immutable in apps/v1)', () => {
    const current = deployment({ selector: { matchLabels: { app: 'web' } }, template });
    const changed = deployment({ selector: { matchLabels: { app: 'web', tier: 'x' } }, template: { ...template, metadata: { labels: { app: 'web', tier: 'x' } } } });
    expect(validateWorkload('DaemonSet', changed, current)).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.selector', message: 'Invalid value: {"matchLabels":{"app":"web","tier":"x"}}: field is immutable' }]);
  });

  it("counts a DaemonSet's template generation in its annotation: 1 on create, one more per template change", () => {
    const created = deployment({ template });
    setTemplateGeneration(created, undefined);
    expect(created.metadata.annotations).toEqual({ [TEMPLATE_GENERATION]: '1' });
    const annotated = { ...created, metadata: { ...created.metadata, annotations: { a: 'b', [TEMPLATE_GENERATION]: '9' } } };
    setTemplateGeneration(annotated, created);
    expect(annotated.metadata.annotations).toEqual({ a: 'b', [TEMPLATE_GENERATION]: '1' });
    const changed = deployment({ template: { ...template, spec: { containers: [] } } });
    setTemplateGeneration(changed, created);
    expect(changed.metadata.annotations?.[TEMPLATE_GENERATION]).toBe('2');
  });

  it('bumps a Deployment generation on spec and annotation changes, a DaemonSet on spec changes, a Service never has one', () => {
    const bump = (info: ResourceInfo, change: (o: KubeObject) => void): number | undefined => {
      const current = prepareCreate(info, deployment({ replicas: 1 }), 'n', true);
      const next = structuredClone(current);
      change(next);
      setGeneration(info, current, next);
      return next.metadata.generation;
    };
    const annotate = (o: KubeObject): void => void (o.metadata.annotations = { a: 'b' });
    const scale = (o: KubeObject): void => void (o.spec = { replicas: 2 });
    expect([bump(resource('deployments'), annotate), bump(resource('deployments'), scale)]).toEqual([2, 2]);
    expect([bump(resource('daemonsets'), annotate), bump(resource('daemonsets'), scale)]).toEqual([1, 2]);
    expect(bump(resource('services'), scale)).toBeUndefined();
  });

  it('prints the columns kubectl shows, computed from the object', () => {
    const d = { ...deployment({ replicas: 3, selector: { matchLabels: { app: 'web' } }, template }), status: { readyReplicas: 2, updatedReplicas: 3 } };
    const table = buildTable(resource('deployments').versions[0]!.printerColumns, [d], {}, 'None') as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    expect(table.rows[0]?.cells).toEqual(['web', '2/3', '3', '0', '<unknown>', 'c', 'nginx:1.27', 'app=web']);
    const ds = deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, template: { ...template, spec: { ...template.spec, nodeSelector: { 'kubernetes.io/os': 'linux' } } } });
    const dsTable = buildTable(resource('daemonsets').versions[0]!.printerColumns, [ds], {}, 'None') as { rows: { cells: unknown[] }[] };
    expect(dsTable.rows[0]?.cells).toEqual(['web', 0, 0, 0, 0, 0, 'kubernetes.io/os=linux', '<unknown>', 'c', 'nginx:1.27', 'app']);
  });
});
