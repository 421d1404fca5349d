import type { KubeObject } from './object.js';
import { isPlainObject } from './object.js';
import type { ResourceInfo } from './registry.js';
import { defaultService } from './service-defaults.js';
import { defaultDaemonSet, defaultDeployment } from './workload-defaults.js';

/**
 * The defaults kube-apiserver gives built-in kinds on write: Secret's type Opaque and stringData
 * folded into data here; Deployments, DaemonSets (workload-defaults.ts) and Services
 * (service-defaults.ts) in files of their own.
 */
export function applyBuiltinDefaults(info: ResourceInfo, object: KubeObject): void {
  switch (`${info.group}/${info.resource}`) {
    case '/secrets':
      defaultSecret(object);
      break;
    case 'apps/deployments':
      defaultDeployment(object);
      break;
    case 'apps/daemonsets':
      defaultDaemonSet(object);
      break;
    case '/services':
      defaultService(object);
      break;
  }
}

function defaultSecret(object: KubeObject): void {
  if (!object.type) object.type = 'Opaque';
  if (isPlainObject(object.stringData)) {
    const data: Record<string, unknown> = isPlainObject(object.data) ? { ...object.data } : {};
    for (const [k, v] of Object.entries(object.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
    object.data = data;
  }
  delete object.stringData;
}
