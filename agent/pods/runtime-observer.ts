// Reads what the runtime holds for one assignment key (kubelet's GetPodStatus): the sandboxes
// and containers carrying our labels for the key, with the status calls that give IPs, exit
// codes and times. Status of an exited container and the IP of a sandbox never change, so they
// are cached by ID and a steady pod costs two list calls and one status call per running container.
import type { CriClient } from '../cri/client.js';
import { isNotFound } from '../cri/client.js';
import type { Container, ContainerStatus, PodSandbox } from '../cri/types.js';
import { nanosToMs, type ObservedContainer, type ObservedPod, type ObservedSandbox } from './observed.js';
import { ANNOTATION_GRACE_PERIOD, ANNOTATION_RESTART_COUNT, ANNOTATION_REVISION, LABEL_ASSIGNMENT_NAME, LABEL_ASSIGNMENT_NAMESPACE, LABEL_ASSIGNMENT_UID, nodeSelector } from './runtime-labels.js';

export class RuntimeObserver {
  private readonly exited = new Map<string, ContainerStatus>();
  private readonly sandboxIPs = new Map<string, string | undefined>();

  constructor(
    private readonly cri: CriClient,
    private readonly nodeName: string,
  ) {}

  async observe(key: string): Promise<ObservedPod> {
    const slash = key.indexOf('/');
    const selector = { ...nodeSelector(this.nodeName), [LABEL_ASSIGNMENT_NAMESPACE]: key.slice(0, slash), [LABEL_ASSIGNMENT_NAME]: key.slice(slash + 1) };
    const [sandboxes, containers] = await Promise.all([this.cri.listPodSandbox({ labelSelector: selector }), this.cri.listContainers({ labelSelector: selector })]);
    const observed = await Promise.all(sandboxes.map((s) => this.sandbox(s, containers.filter((c) => c.podSandboxId === s.id))));
    observed.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
    return { key, sandboxes: observed };
  }

  /** Drops what is cached for objects the runtime no longer has. */
  forget(sandboxIds: Iterable<string>, containerIds: Iterable<string>): void {
    for (const id of sandboxIds) this.sandboxIPs.delete(id);
    for (const id of containerIds) this.exited.delete(id);
  }

  private async sandbox(s: PodSandbox, containers: Container[]): Promise<ObservedSandbox> {
    const ready = s.state === 'SANDBOX_READY';
    let ip = this.sandboxIPs.get(s.id);
    if (ready && !this.sandboxIPs.has(s.id)) {
      try {
        const status = await this.cri.podSandboxStatus(s.id, `pod ${s.metadata.namespace}/${s.metadata.name}`);
        ip = status.network?.ip || undefined;
        if (ip) this.sandboxIPs.set(s.id, ip);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const instances = (await Promise.all(containers.map((c) => this.container(c)))).filter((c): c is ObservedContainer => c !== undefined);
    instances.sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
    return {
      id: s.id,
      uid: s.labels[LABEL_ASSIGNMENT_UID] ?? s.metadata.uid,
      attempt: s.metadata.attempt,
      ready,
      createdAt: nanosToMs(s.createdAt),
      revision: s.annotations[ANNOTATION_REVISION],
      ip: ready ? ip : undefined,
      runtimeHandler: s.runtimeHandler,
      containers: instances,
    };
  }

  private async container(c: Container): Promise<ObservedContainer | undefined> {
    let status = this.exited.get(c.id);
    if (!status) {
      try {
        status = await this.cri.containerStatus(c.id);
      } catch (err) {
        // Removed between the list and the status call: it is simply gone.
        if (isNotFound(err)) return undefined;
        throw err;
      }
      if (status.state === 'CONTAINER_EXITED') this.exited.set(c.id, status);
    }
    const grace = Number(status.annotations[ANNOTATION_GRACE_PERIOD]);
    return {
      id: c.id,
      name: status.metadata.name,
      attempt: status.metadata.attempt,
      restartCount: Number(status.annotations[ANNOTATION_RESTART_COUNT] ?? status.metadata.attempt) || 0,
      state: status.state,
      createdAt: nanosToMs(status.createdAt),
      startedAt: nanosToMs(status.startedAt),
      finishedAt: nanosToMs(status.finishedAt),
      exitCode: status.exitCode,
      reason: status.reason,
      message: status.message,
      image: status.image.userSpecifiedImage || status.image.image,
      imageRef: status.imageRef,
      logPath: status.logPath,
      gracePeriodSeconds: Number.isFinite(grace) && status.annotations[ANNOTATION_GRACE_PERIOD] !== undefined ? grace : undefined,
    };
  }
}
