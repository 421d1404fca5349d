// Keeps the service catalog in step with NodeWorkloads and NodeAssignments: any event recomputes
// the one workload it concerns, and the proxier hears which frontends changed. A workload whose
// fields fail the proxy's check is left out, counted and logged once for each change of what is
// wrong; every other service goes on syncing.
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';
import { BY_WORKLOAD, workloadKeyOf, type NodeAssignment } from '../../api/index.js';
import { objectKey, splitKey, type ResourceEventHandler } from '../../kube/types.js';
import { serviceFromWorkload, type WorkloadObject } from './model-from-api.js';
import type { Proxier } from './proxier.js';
import type { ServiceCatalog } from './service-catalog.js';

export interface ServiceWatchOptions {
  workloads: { get(key: string): WorkloadObject | undefined; addEventHandler(h: ResourceEventHandler<WorkloadObject>): void };
  assignments: { byIndex(index: string, value: string): NodeAssignment[]; addEventHandler(h: ResourceEventHandler<NodeAssignment>): void };
  catalog: ServiceCatalog;
  proxier: Proxier;
  /** This node: endpoints elsewhere are remote. */
  nodeName: string;
  logger: Logger;
  /** Counts workloads left out because a field failed the check (shopfloor_agent_proxy_invalid_objects_total). */
  invalidObjects: Counter;
}

export function watchServices(o: ServiceWatchOptions): void {
  /** What was last wrong with each workload left out, so that an unchanged problem is not counted again. */
  const invalid = new Map<string, string>();
  const refresh = (key: string | undefined): void => {
    if (!key) return;
    const workload = o.workloads.get(key);
    const read = workload ? serviceFromWorkload(workload, o.assignments.byIndex(BY_WORKLOAD, key), o.nodeName) : { service: undefined, problems: [] };
    const { namespace, name } = splitKey(key);
    const wrong = read.problems.join('\n');
    if (wrong && invalid.get(key) !== wrong) {
      o.invalidObjects.inc();
      o.logger.warn({ namespace, name, problems: read.problems }, 'service left out of the rules: a field of its NodeWorkload failed the check');
    }
    if (wrong) invalid.set(key, wrong);
    else invalid.delete(key);
    const { changed, problems } = o.catalog.setService(key, read.service);
    if (changed.length === 0) return;
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
