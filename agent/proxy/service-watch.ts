// Keeps the service catalog in step with NodeWorkloads and NodeAssignments: any event recomputes
// the one workload it concerns, and the proxier hears which frontends changed.
import type { Logger } from 'pino';
import { BY_WORKLOAD, workloadKeyOf, type NodeAssignment, type NodeWorkload } from '../../api/index.js';
import { objectKey, splitKey, type ResourceEventHandler } from '../../kube/types.js';
import { serviceFromWorkload } from './model-from-api.js';
import type { Proxier } from './proxier.js';
import type { ServiceCatalog } from './service-catalog.js';

export interface ServiceWatchOptions {
  workloads: { get(key: string): NodeWorkload | undefined; addEventHandler(h: ResourceEventHandler<NodeWorkload>): void };
  assignments: { byIndex(index: string, value: string): NodeAssignment[]; addEventHandler(h: ResourceEventHandler<NodeAssignment>): void };
  catalog: ServiceCatalog;
  proxier: Proxier;
  /** This node: endpoints elsewhere are remote. */
  nodeName: string;
  logger: Logger;
}

export function watchServices(o: ServiceWatchOptions): void {
  const refresh = (key: string | undefined): void => {
    if (!key) return;
    const workload = o.workloads.get(key);
    const service = workload ? serviceFromWorkload(workload, o.assignments.byIndex(BY_WORKLOAD, key), o.nodeName) : undefined;
    const { changed, problems } = o.catalog.setService(key, service);
    if (changed.length === 0) return;
    const { namespace, name } = splitKey(key);
    for (const problem of problems) o.logger.warn({ namespace, name, problem }, 'service port left out of the rules');
    o.logger.debug({ namespace, name, frontends: changed.length }, 'service changed');
    o.proxier.setState(o.catalog.state, changed);
  };
  o.workloads.addEventHandler({
    onAdd: (nw) => refresh(objectKey(nw)),
    onUpdate: (_old, nw) => refresh(objectKey(nw)),
    onDelete: (nw) => refresh(objectKey(nw)),
  });
  o.assignments.addEventHandler({
    onAdd: (na) => refresh(workloadKeyOf(na)),
    onUpdate: (old, na) => {
      const before = workloadKeyOf(old);
      const after = workloadKeyOf(na);
      refresh(after);
      if (before !== after) refresh(before);
    },
    onDelete: (na) => refresh(workloadKeyOf(na)),
  });
}
