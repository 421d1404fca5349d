import { describe, expect, it } from '@jest/globals';
import type { NodeAssignment, Template } from '../../api/index.js';
import type { ObservedPod } from '../pods/observed.js';
import { exited, running, sandbox, template, twoContainers } from '../pods/test-fixtures.js';
import { chooseLogInstance, type InstanceQuery } from './log-instance.js';
import { requestError } from './test-fixtures.js';

const KEY = 'shop/web-0';

function assignment(t: Template, reasons: Record<string, string> = {}): NodeAssignment {
  return {
    apiVersion: 'shopfloor.dev/v1alpha1',
    kind: 'NodeAssignment',
    metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1' },
    spec: { nodeName: 'n1', workloadRef: { name: 'web' }, revision: 'rev-1', template: t },
    status: { containers: Object.entries(reasons).map(([name, reason]) => ({ name, state: 'Waiting', reason, ready: false, restartCount: 0 })) },
  } as unknown as NodeAssignment;
}

const pod = (...sandboxes: ObservedPod['sandboxes']): ObservedPod => ({ key: KEY, sandboxes });

function ask(q: Partial<InstanceQuery> & { observed: ObservedPod }): ReturnType<typeof chooseLogInstance> {
  const a = q.assignment === undefined && !('assignment' in q) ? assignment(template()) : q.assignment;
  return chooseLogInstance({ key: KEY, statusOf: a, container: undefined, previous: false, ...q, assignment: a });
}

describe('chooseLogInstance', () => {
  it('reads the running instance, and with previous the one that ended before it', () => {
    const now = running('app', 2);
    const before = exited('app', 1, 1);
    const observed = pod(sandbox([now, before]));
    expect(ask({ observed })).toEqual({ container: 'app', containerId: now.id, logPath: now.logPath, running: true });
    expect(ask({ observed, previous: true })).toMatchObject({ containerId: before.id, running: false });
  });

  it('while a container waits for its restart, its last instance is current and previous alike', () => {
    const last = exited('app', 3, 1);
    const observed = pod(sandbox([last, exited('app', 2, 1)]));
    expect(ask({ observed }).containerId).toBe(last.id);
    expect(ask({ observed, previous: true }).containerId).toBe(last.id);
  });

  it('a container ended for good (restartPolicy Never) is current; previous is the instance before it', () => {
    const t = template({ restartPolicy: 'Never' });
    const last = exited('app', 1, 1);
    const first = exited('app', 0, 1);
    expect(ask({ assignment: assignment(t), observed: pod(sandbox([last, first])), previous: true }).containerId).toBe(first.id);
    expect(requestError(() => ask({ assignment: assignment(t), observed: pod(sandbox([last])), previous: true }))).toEqual({ status: 400, message: 'previous terminated container "app" in assignment shop/web-0 not found' });
  });

  it('takes the only container when none is named, and asks for one when there are several', () => {
    expect(requestError(() => ask({ assignment: assignment(twoContainers()), observed: pod() }))).toEqual({ status: 400, message: 'a container name must be specified for assignment shop/web-0, choose one of: [app side]' });
    const side = running('side', 0);
    expect(ask({ assignment: assignment(twoContainers()), observed: pod(sandbox([running('app', 0), side])), container: 'side' }).containerId).toBe(side.id);
  });

  it('answers 404 for an assignment the node does not run and for a container it does not have', () => {
    expect(requestError(() => ask({ assignment: undefined, observed: pod() }))).toEqual({ status: 404, message: 'assignment shop/web-0 does not run on this node' });
    expect(requestError(() => ask({ observed: pod(), container: 'db' }))).toEqual({ status: 404, message: 'container "db" not found in assignment shop/web-0; its containers: app' });
  });

  it('says why a container without an instance has no log yet, and ignores instances of an older uid', () => {
    expect(requestError(() => ask({ observed: pod(sandbox([running('app', 0)], { uid: 'uid-old' })) })).message).toBe('container "app" in assignment shop/web-0 is waiting to start: no logs yet');
    const pulling = assignment(template(), { app: 'ImagePullBackOff' });
    expect(requestError(() => ask({ assignment: pulling, statusOf: pulling, observed: pod() })).message).toBe('container "app" in assignment shop/web-0 is waiting to start: trying and failing to pull image');
  });
});
