// The probes of the pods the lifecycle runs: keeps a ProbeManager's workers in step with each
// pod's running container instances, and answers the sync's questions (is it live, started,
// ready?) by container instance. After an agent restart, an instance the agent had reported
// ready or started starts out so again, so that readiness does not flip.
import type { Registry } from 'prom-client';
import type { NodeAssignment } from '../../api/index.js';
import type { Clock } from '../../kube/clock.js';
import type { Logger } from '../../kube/logger.js';
import { latestInstance, type ObservedSandbox } from './observed.js';
import type { ExecSync } from './probe-handlers.js';
import { ProbeManager, type ProbedContainer } from './probe-manager.js';
import type { DesiredPod, ProbeVerdict } from './pod-plan.js';
import type { PodProbes } from './pod-sync.js';

const PROBE_NAME = { readiness: 'Readiness', liveness: 'Liveness', startup: 'Startup' } as const;

export class PodProbeManager implements PodProbes {
  private readonly manager: ProbeManager;
  /** Container instance ID → container name, per pod, as of the last update. */
  private readonly names = new Map<string, Map<string, string>>();

  constructor(o: { exec: ExecSync; onChange: (podKey: string) => void; clock: Clock; registry?: Registry; logger?: Logger }) {
    this.manager = new ProbeManager({
      exec: o.exec,
      onChange: (podKey) => o.onChange(podKey),
      clock: o.clock,
      ...(o.registry ? { registry: o.registry } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
    });
  }

  update(key: string, desired: DesiredPod, sandbox: ObservedSandbox | undefined, previous: NodeAssignment['status']): void {
    if (!sandbox?.ready || !sandbox.ip) {
      this.forget(key);
      return;
    }
    const names = new Map<string, string>();
    const containers: ProbedContainer[] = [];
    for (const spec of desired.template.containers) {
      const last = latestInstance(sandbox, spec.name);
      if (!last) continue;
      names.set(last.id, spec.name);
      const reported = previous?.containers?.find((c) => c.name === spec.name && c.containerID === `containerd://${last.id}`);
      containers.push({
        name: spec.name,
        containerId: last.id,
        startedAt: last.startedAt,
        running: last.state === 'CONTAINER_RUNNING',
        spec,
        // Only what was true carries over: a "not started" carried over would read as a failure.
        ...(reported?.ready ? { reported: { ready: true, started: true } } : {}),
      });
    }
    this.names.set(key, names);
    const slash = key.indexOf('/');
    this.manager.sync(key, containers, { podIP: sandbox.ip, namespace: key.slice(0, slash), name: key.slice(slash + 1), uid: desired.uid });
  }

  verdict(key: string, containerId: string, probe: 'liveness' | 'startup'): ProbeVerdict {
    const name = this.names.get(key)?.get(containerId);
    if (name === undefined) return 'unknown';
    return this.manager.result(key, name, probe, containerId) ?? 'unknown';
  }

  ready(key: string, containerId: string, containerName: string): boolean {
    // A startup probe gates readiness too: a container is ready only once it has started.
    return this.manager.result(key, containerName, 'startup', containerId) === 'success' && this.manager.result(key, containerName, 'readiness', containerId) === 'success';
  }

  failure(key: string, containerName: string): string | undefined {
    for (const probe of ['startup', 'liveness', 'readiness'] as const) {
      const output = this.manager.lastFailure(key, containerName, probe);
      if (output !== undefined) return `${PROBE_NAME[probe]} probe failed: ${output}`;
    }
    return undefined;
  }

  forget(key: string): void {
    this.names.delete(key);
    this.manager.remove(key);
  }

  stop(): void {
    this.manager.stop();
  }
}
