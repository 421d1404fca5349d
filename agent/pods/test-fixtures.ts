// Observed pods for the planner and status tests: container instances and sandboxes as the
// runtime observer reports them, with times counted from T0.
import { templateSchema, type Template, type TemplateInput } from '../../api/index.js';
import type { ObservedContainer, ObservedSandbox } from './observed.js';

export const T0 = Date.parse('2026-03-01T10:00:00Z');

export function template(over: Partial<TemplateInput> = {}): Template {
  return templateSchema.parse({ containers: [{ name: 'app', image: 'shopfloor.dev/app:1' }], ...over });
}

export const twoContainers = (restartPolicy: Template['restartPolicy'] = 'Always'): Template =>
  template({ restartPolicy, containers: [{ name: 'app', image: 'shopfloor.dev/app:1' }, { name: 'side', image: 'shopfloor.dev/side:1' }] });

let nextId = 0;

export function running(name: string, restartCount = 0, over: Partial<ObservedContainer> = {}): ObservedContainer {
  nextId += 1;
  return {
    id: `c${nextId}`,
    name,
    attempt: restartCount,
    restartCount,
    state: 'CONTAINER_RUNNING',
    createdAt: T0 + restartCount * 1000,
    startedAt: T0 + restartCount * 1000 + 10,
    finishedAt: 0,
    exitCode: 0,
    reason: '',
    message: '',
    image: 'shopfloor.dev/app:1',
    imageRef: 'sha256:app',
    logPath: `/var/log/pods/shop_web-0_uid-1/${name}/${restartCount}.log`,
    gracePeriodSeconds: 30,
    ...over,
  };
}

export function exited(name: string, restartCount: number, exitCode: number, over: Partial<ObservedContainer> = {}): ObservedContainer {
  return running(name, restartCount, { state: 'CONTAINER_EXITED', exitCode, finishedAt: T0 + restartCount * 1000 + 500, reason: exitCode === 0 ? 'Completed' : 'Error', ...over });
}

export function sandbox(containers: ObservedContainer[], over: Partial<ObservedSandbox> = {}): ObservedSandbox {
  nextId += 1;
  return { id: `s${nextId}`, uid: 'uid-1', attempt: 0, ready: true, createdAt: T0, revision: 'rev-1', ip: '10.88.7.2', runtimeHandler: 'runc', containers, ...over };
}
