// Installs Shopfloor's CRDs into a cluster with server-side apply and waits until the API
// server serves them, so that `shopfloor up` can hand a ready cluster to the user.
import { setTimeout as sleep } from 'node:timers/promises';
import { customResourceDefinitions } from '../api/index.js';
import type { KubeClient } from '../kube/client.js';
import { CUSTOM_RESOURCE_DEFINITIONS as CRDS } from '../kube/resource.js';
import type { KubeObject } from '../kube/types.js';

interface CrdObject extends KubeObject {
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

export async function installCrds(client: KubeClient, opts: { timeoutMs?: number; fieldManager?: string } = {}): Promise<string[]> {
  const names: string[] = [];
  for (const crd of customResourceDefinitions()) {
    const name = crd.metadata.name;
    await client.patch(CRDS, name, crd, { type: 'apply', fieldManager: opts.fieldManager ?? 'shopfloor', force: true });
    names.push(name);
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (const name of names) {
    for (;;) {
      const crd = await client.get<CrdObject>(CRDS, name);
      const established = crd.status?.conditions?.find((c) => c.type === 'Established');
      if (established?.status === 'True') break;
      if (Date.now() > deadline) {
        throw new Error(`CRD ${name} is not Established after ${opts.timeoutMs ?? 30_000} ms: ${established?.message ?? 'no Established condition yet'}; check the API server's log`);
      }
      await sleep(100);
    }
  }
  return names;
}
