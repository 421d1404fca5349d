// Which container instance's log a request reads, as kubelet's validateContainerLogStatus
// decides: the current instance (running, or the last that ended), or with `previous` the last
// one that terminated before it. While a container waits to be restarted (crash loop back-off)
// its last instance is both. Pure: it reads the assignment the node runs and what the runtime
// holds for it.
import type { NodeAssignment } from '../../api/index.js';
import type { ObservedContainer, ObservedPod } from '../pods/observed.js';
import { shouldRestart } from '../pods/pod-plan.js';
import { LogRequestError } from './log-request.js';

export interface LogInstance {
  container: string;
  containerId: string;
  /** The CRI log file, absolute. */
  logPath: string;
  running: boolean;
}

export interface InstanceQuery {
  key: string;
  /** The assignment this node runs under `key`; undefined when it runs none. */
  assignment: NodeAssignment | undefined;
  /** Where its status is written (the assignment, or a static one's mirror), for waiting reasons. */
  statusOf: NodeAssignment | undefined;
  observed: ObservedPod;
  /** Undefined: the only container, as kubectl logs takes it. */
  container: string | undefined;
  previous: boolean;
}

/** The instance to read, or a LogRequestError: 404 for an unknown assignment or container, 400 when there is no such log. */
export function chooseLogInstance(q: InstanceQuery): LogInstance {
  const a = q.assignment;
  if (!a) throw new LogRequestError(404, `assignment ${q.key} does not run on this node`);
  const names = a.spec.template.containers.map((c) => c.name);
  let container = q.container;
  if (container === undefined) {
    if (names.length !== 1) throw new LogRequestError(400, `a container name must be specified for assignment ${q.key}, choose one of: [${names.join(' ')}]`);
    container = names[0] as string;
  }
  if (!names.includes(container)) throw new LogRequestError(404, `container "${container}" not found in assignment ${q.key}; its containers: ${names.join(', ')}`);

  const uid = a.metadata.uid ?? '';
  const instances = q.observed.sandboxes
    .filter((s) => s.uid === uid)
    .flatMap((s) => s.containers.filter((c) => c.name === container))
    .sort((x, y) => y.createdAt - x.createdAt || y.attempt - x.attempt);
  const [newest, before] = instances;
  const where = `container "${container}" in assignment ${q.key}`;
  if (!newest) throw new LogRequestError(400, `${where} is waiting to start: ${waitingReason(q.statusOf, container)}`);
  let chosen: ObservedContainer | undefined = newest;
  if (q.previous) {
    const waitsForRestart = newest.state === 'CONTAINER_EXITED' && shouldRestart(a.spec.template.restartPolicy, newest.exitCode);
    chosen = newest.state === 'CONTAINER_RUNNING' || !waitsForRestart ? before : newest;
    if (!chosen || chosen.state !== 'CONTAINER_EXITED') throw new LogRequestError(400, `previous terminated ${where} not found`);
  }
  if (!chosen.logPath) throw new LogRequestError(400, `${where} has no log file (the runtime reports no log path)`);
  return { container, containerId: chosen.id, logPath: chosen.logPath, running: chosen.state === 'CONTAINER_RUNNING' };
}

function waitingReason(status: NodeAssignment | undefined, container: string): string {
  const reason = status?.status?.containers?.find((c) => c.name === container)?.reason;
  if (reason === 'ErrImagePull') return "image can't be pulled";
  if (reason === 'ImagePullBackOff') return 'trying and failing to pull image';
  return reason ?? 'no logs yet';
}
