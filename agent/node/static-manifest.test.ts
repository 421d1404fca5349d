import { describe, expect, it } from '@jest/globals';
import type { Template } from '../../api/index.js';
import { formatProblem, parseStaticManifest, staticUid } from './static-manifest.js';
import { templateRevision } from '../../api/revision.js';

const web = `apiVersion: shopfloor.dev/v1alpha1
kind: NodeWorkload
metadata:
  name: web
  labels: { app: web, shopfloor.dev/workload: web }
spec:
  placement: { mode: EveryNode }
  template:
    containers:
      - name: httpd
        image: busybox:1.36
        args: [httpd, -f]
`;

describe('parseStaticManifest', () => {
  it('makes one static assignment for this node per NodeWorkload', () => {
    const { assignments, problems } = parseStaticManifest(web, '/etc/shopfloor/static/web.yaml', 'node-1');
    expect(problems).toEqual([]);
    expect(assignments).toHaveLength(1);
    const a = assignments[0]!;
    const template: Template = {
      containers: [{ name: 'httpd', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent', args: ['httpd', '-f'] }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
    };
    expect(a.spec).toEqual({ nodeName: 'node-1', workloadRef: { name: 'web' }, revision: templateRevision(template), template });
    expect(a.metadata).toEqual({
      name: 'web-node-1',
      namespace: 'default',
      uid: a.metadata.uid,
      labels: {
        app: 'web',
        'shopfloor.dev/node': 'node-1',
        'shopfloor.dev/revision': a.spec.revision,
        'app.kubernetes.io/managed-by': 'shopfloor',
        'shopfloor.dev/static': 'true',
      },
      annotations: { 'shopfloor.dev/config-hash': a.metadata.uid, 'shopfloor.dev/config-source': '/etc/shopfloor/static/web.yaml' },
    });
    expect(a.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('carries no shopfloor.dev/workload label, even when the file sets one, so no controller takes it for a replica', () => {
    const [a] = parseStaticManifest(web, 'web.yaml', 'node-1').assignments;
    expect(a?.metadata.labels).not.toHaveProperty(['shopfloor.dev/workload']);
  });

  it('takes the namespace from the file and reads several documents', () => {
    const two = `${web}---\n${web.replace('name: web\n', 'name: api\n  namespace: tools\n')}`;
    const { assignments, problems } = parseStaticManifest(two, 'two.yaml', 'node-1');
    expect(problems).toEqual([]);
    expect(assignments.map((a) => `${a.metadata.namespace}/${a.metadata.name}`)).toEqual(['default/web-node-1', 'tools/api-node-1']);
  });

  it('reports field errors with the file, document and field, and makes nothing of that document', () => {
    const bad = web.replace('image: busybox:1.36', 'image: ""');
    const { assignments, problems } = parseStaticManifest(`${web}---\n${bad.replace('name: web\n', 'name: broken\n')}`, 'web.yaml', 'node-1');
    expect(assignments.map((a) => a.metadata.name)).toEqual(['web-node-1']);
    expect(problems.map(formatProblem)).toEqual(['web.yaml document 2 (NodeWorkload broken): spec.template.containers[0].image: must be an image reference such as busybox:1.36']);
  });

  it('reports YAML syntax errors with line and column', () => {
    const { problems } = parseStaticManifest('kind: [NodeWorkload\n', 'x.yaml', 'node-1');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.errors[0]?.path).toBe('(yaml)');
    expect(problems[0]?.errors[0]?.message).toMatch(/^line \d+, column \d+: /);
  });

  it('refuses documents that are not NodeWorkloads', () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n';
    const { assignments, problems } = parseStaticManifest(cm, 'cm.yaml', 'node-1');
    expect(assignments).toEqual([]);
    expect(problems.map(formatProblem)).toEqual(['cm.yaml document 1: kind: ConfigMap (v1) is not a NodeWorkload: a static manifest holds only shopfloor.dev/v1alpha1 NodeWorkloads']);
  });

  it('refuses a service, a workload defined twice, and names too long for a NodeAssignment', () => {
    const service = web.replace('spec:\n', 'spec:\n  service: { ports: [{ port: 80 }] }\n');
    expect(parseStaticManifest(service, 's.yaml', 'node-1').problems[0]?.errors.map((e) => e.path)).toEqual(['spec.service']);
    expect(parseStaticManifest(`${web}---\n${web}`, 'd.yaml', 'node-1').problems.map(formatProblem)).toEqual([
      'd.yaml document 2 (NodeWorkload default/web): metadata.name: NodeWorkload default/web is already defined by document 1 of this file',
    ]);
    expect(parseStaticManifest(web, 'l.yaml', `n${'x'.repeat(250)}`).problems[0]?.errors.map((e) => e.path)).toEqual(['metadata.name']);
  });

  it('makes nothing of an empty file', () => {
    expect(parseStaticManifest('# nothing yet\n', 'e.yaml', 'node-1')).toEqual({ assignments: [], problems: [] });
  });
});

describe('staticUid', () => {
  it('depends on the node, the file and the document, and not on key order', () => {
    const doc = { kind: 'NodeWorkload', metadata: { name: 'web' } };
    const uid = staticUid('n1', '/a.yaml', doc);
    expect(staticUid('n1', '/a.yaml', { metadata: { name: 'web' }, kind: 'NodeWorkload' })).toBe(uid);
    expect(staticUid('n2', '/a.yaml', doc)).not.toBe(uid);
    expect(staticUid('n1', '/b.yaml', doc)).not.toBe(uid);
    expect(staticUid('n1', '/a.yaml', { ...doc, spec: {} })).not.toBe(uid);
  });

  it('changes when the file is edited, but not when it is only rewritten the same', () => {
    const a = parseStaticManifest(web, 'web.yaml', 'n1').assignments[0];
    const same = parseStaticManifest(`# a comment\n${web}`, 'web.yaml', 'n1').assignments[0];
    const edited = parseStaticManifest(web.replace('busybox:1.36', 'busybox:1.37'), 'web.yaml', 'n1').assignments[0];
    expect(same?.metadata.uid).toBe(a?.metadata.uid);
    expect(edited?.metadata.uid).not.toBe(a?.metadata.uid);
    expect(edited?.spec.revision).not.toBe(a?.spec.revision);
  });
});
