import { describe, expect, it } from '@jest/globals';
import { checkManifest } from './manifest.js';

const workload = (name: string, extra = '') => `apiVersion: shopfloor.dev/v1alpha1
kind: NodeWorkload
metadata: {name: ${name}}
spec:
  placement: {replicas: 1}
  template:
    containers: [{name: web, image: busybox:stable${extra}}]
`;

describe('checkManifest', () => {
  it('numbers documents from 1 and fills defaults into valid objects', () => {
    const docs = checkManifest(`${workload('a')}---\n${workload('b', ', imagePullPolicy: Nope')}`);
    expect(docs.map((d) => [d.index, d.kind, d.name, d.verdict])).toEqual([
      [1, 'NodeWorkload', 'a', 'valid'],
      [2, 'NodeWorkload', 'b', 'invalid'],
    ]);
    const [a, b] = docs;
    expect(a?.verdict === 'valid' && a.object.kind === 'NodeWorkload' && a.object.spec.template.restartPolicy).toBe('Always');
    expect(b?.verdict === 'invalid' && b.errors).toEqual([
      { path: 'spec.template.containers[0].imagePullPolicy', message: 'must be one of Always, IfNotPresent, Never' },
    ]);
  });

  it('skips empty documents but keeps the numbering of the others', () => {
    const docs = checkManifest(`---\n# only a comment\n---\n${workload('a')}---\n`);
    expect(docs.map((d) => [d.index, d.verdict])).toEqual([[2, 'valid']]);
    expect(checkManifest('')).toEqual([]);
  });

  it('checks NodeAssignment and NodeAgent by their own schemas', () => {
    const docs = checkManifest(`apiVersion: shopfloor.dev/v1alpha1
kind: NodeAgent
metadata: {name: node-1}
status: {nodeInfo: {proxyMode: ipvs}}
---
apiVersion: shopfloor.dev/v1alpha1
kind: NodeAssignment
metadata: {name: web-x}
spec: {nodeName: node-1, workloadRef: {name: web}, revision: '', template: {containers: [{name: web, image: busybox:stable}]}}
`);
    expect(docs.map((d) => (d.verdict === 'invalid' ? d.errors : d.verdict))).toEqual([
      [{ path: 'status.nodeInfo.proxyMode', message: 'must be one of nftables, iptables' }],
      [{ path: 'spec.revision', message: 'must not be empty' }],
    ]);
  });

  it('names kinds of other groups without checking them, and rejects unknown Shopfloor kinds', () => {
    const docs = checkManifest(`apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: shopfloor.dev/v1alpha1
kind: NodeWorklaod
metadata: {name: typo}
---
metadata: {name: nothing}
`);
    expect(docs).toEqual([
      { index: 1, kind: 'Namespace', name: 'demo', verdict: 'foreign', apiVersion: 'v1' },
      {
        index: 2,
        kind: 'NodeWorklaod',
        name: 'typo',
        verdict: 'invalid',
        errors: [{ path: 'kind', message: 'unknown kind "NodeWorklaod" in shopfloor.dev: expected one of NodeWorkload, NodeAssignment, NodeAgent' }],
      },
      {
        index: 3,
        name: 'nothing',
        verdict: 'invalid',
        errors: [
          { path: 'apiVersion', message: 'is required (e.g. shopfloor.dev/v1alpha1)' },
          { path: 'kind', message: 'is required: one of NodeWorkload, NodeAssignment, NodeAgent for Shopfloor' },
        ],
      },
    ]);
  });

  it('reports YAML syntax errors and non-objects as errors, never by throwing', () => {
    const docs = checkManifest('a: [1, 2\nb: c\n---\n- just\n- a list\n---\n*undefined_alias\n');
    expect(docs.map((d) => [d.index, d.verdict])).toEqual([
      [1, 'invalid'],
      [2, 'invalid'],
      [3, 'invalid'],
    ]);
    const messages = docs.flatMap((d) => (d.verdict === 'invalid' ? d.errors.map((e) => `${e.path}: ${e.message}`) : []));
    expect(messages[0]).toMatch(/^\(yaml\): line 2, column 1: Flow sequence/);
    expect(messages[1]).toBe('(root): expected a Kubernetes object with apiVersion, kind and metadata, not a list');
    expect(messages[2]).toMatch(/^\(yaml\): .*undefined_alias/);
  });
});
