import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { repoRoot } from '../harness/kubectl.js';
import { runProgram } from '../harness/program.js';
import { findPythonKubernetes, itWithPythonKubernetes } from '../harness/python-kubernetes.js';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';

// What a user of Debian's python3-kubernetes sees, scenario by scenario (test/clients/python/
// driver.py prints it as JSON): the same on the devcluster and on kube-apiserver (this suite runs
// on both), so a difference is the devcluster's to fix.
const found = findPythonKubernetes();
const driver = join(repoRoot, 'test', 'clients', 'python', 'driver.py');

describe(`${testApiServer()} with python3-kubernetes${'version' in found ? ` ${found.version}` : ''}`, () => {
  let c: TestCluster;
  const ns = `py-${randomBytes(3).toString('hex')}`;

  /** The driver's JSON for `scenario`; a non-zero exit fails with its stderr. */
  async function scenario(python: string, name: string): Promise<unknown> {
    const r = await runProgram(python, [driver, '--kubeconfig', c.kubeconfigPath, '--namespace', ns, name]);
    if (r.code !== 0) throw new Error(`driver.py ${name} exited ${r.code}: ${r.stderr.slice(-3000)}`);
    return JSON.parse(r.stdout) as unknown;
  }

  beforeAll(async () => {
    c = await startTestCluster({ crds: true });
    await c.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  itWithPythonKubernetes(found, 'creates, gets, lists by label, merge-patches spec and status, and deletes a NodeWorkload', async (python) => {
    expect(await scenario(python, 'crud')).toEqual({
      created: { name: 'crud', generation: 1, uid: true },
      got: { uid: true, resourceVersion: true },
      listed: { kind: 'NodeWorkloadList', names: ['crud'], resourceVersion: true },
      // A status patch leaves the generation where the spec patch put it.
      patched: { replicas: 3, generation: 2, mode: 'Replicas' },
      status: { status: { replicas: 3, readyReplicas: 2 }, generation: 2 },
      // Deleted at once: a Status naming it, not the object.
      deleted: { kind: 'Status', name: null, status: 'Success', details: { name: 'crud', group: 'shopfloor.dev', kind: 'nodeworkloads' } },
      afterDelete: { status: 404, reason: 'NotFound', kind: 'Status' },
    });
  });

  itWithPythonKubernetes(found, 'raises ApiException with the status and reason of a missing, duplicate, invalid or stale NodeWorkload', async (python) => {
    expect(await scenario(python, 'errors')).toEqual({
      missing: { status: 404, reason: 'NotFound', kind: 'Status' },
      duplicate: { status: 409, reason: 'AlreadyExists', kind: 'Status' },
      invalid: { status: 422, reason: 'Invalid', kind: 'Status' },
      stale: { status: 409, reason: 'Conflict', kind: 'Status' },
      deleteMissing: { status: 404, reason: 'NotFound', kind: 'Status' },
    });
  });

  itWithPythonKubernetes(found, 'patches a ConfigMap with a strategic merge patch (a dict) and a JSON patch (a list), and refuses a failed test op', async (python) => {
    expect(await scenario(python, 'configmap-patches')).toEqual({
      strategic: { data: { keep: 'k', new: 'n' }, labels: { a: '1', b: '2' } },
      jsonPatch: { data: { keep: 'kept', new: 'n' }, labels: { a: '1', b: '2', c: '3' } },
      failedTest: 422,
      listed: ['patches'],
    });
  });

  itWithPythonKubernetes(found, 'lists in pages of two through _continue, then deletes the collection', async (python) => {
    expect(await scenario(python, 'paging')).toEqual({ pages: [['page-0', 'page-1'], ['page-2', 'page-3'], ['page-4']], afterDeleteCollection: 0 });
  });

  itWithPythonKubernetes(found, 'watches from a resourceVersion and sees only the changes after it', async (python) => {
    expect(await scenario(python, 'watch-from-resource-version')).toEqual({
      events: [
        { type: 'MODIFIED', name: 'from-rv-before', replicas: 2 },
        { type: 'ADDED', name: 'from-rv-after', replicas: 1 },
      ],
      allAfter: true,
    });
  });

  itWithPythonKubernetes(found, 'sees a NodeWorkload ADDED, MODIFIED and DELETED in order on a live watch', async (python) => {
    expect(await scenario(python, 'watch-sequence')).toEqual({
      events: [
        { type: 'ADDED', name: 'sequence', replicas: 1 },
        { type: 'MODIFIED', name: 'sequence', replicas: 4 },
        { type: 'DELETED', name: 'sequence', replicas: 4 },
      ],
      increasing: true,
    });
  });

  itWithPythonKubernetes(found, 'ends a quiet watch when its timeout_seconds pass, with no events', async (python) => {
    expect(await scenario(python, 'watch-timeout')).toEqual({ events: 0 });
  });

  itWithPythonKubernetes(found, 'finds NodeWorkload and ConfigMap through the dynamic client\'s discovery, and creates, lists and deletes through it', async (python) => {
    expect(await scenario(python, 'dynamic-discovery')).toEqual({
      resource: { name: 'nodeworkloads', namespaced: true, shortNames: ['nw'], subresources: ['scale', 'status'] },
      listed: ['dynamic'],
      configmaps: { name: 'configmaps', namespaced: true },
    });
  });

  itWithPythonKubernetes(found, 'reads ConfigMap, Secret, ServiceAccount, both Events, Lease, Role, RoleBinding, Namespace and the CRD into the typed models', async (python) => {
    expect(await scenario(python, 'typed-models')).toEqual({
      configMap: { k: 'v' },
      // stringData is stored base64-encoded under data.
      secret: { password: Buffer.from('s3cret').toString('base64') },
      serviceAccounts: ['typed'],
      // Both API groups' Events are one kind of object: the events.k8s.io one reads as a core Event too.
      coreEvents: [['typed-core', 'Tested', 'typed'], ['typed-events', 'Tested', 'typed']],
      eventsV1: [['Tested', 'typed', 'events']],
      // A core Event has no eventTime, which the events.k8s.io/v1 model requires: on either API
      // server a list that holds one fails in the client.
      eventsV1WithCoreEvent: 'Invalid value for `event_time`, must not be `None`',
      lease: 'typed',
      role: [['nodeworkloads']],
      roleBinding: 'typed',
      namespaces: true,
      crd: { kind: 'NodeWorkload', scope: 'Namespaced', storedVersions: ['v1alpha1'], conditions: [['Established', 'True'], ['NamesAccepted', 'True']] },
    });
  });
});
