import type { KubeObject } from './object.js';
import { isPlainObject } from './object.js';
import type { ResourceInfo } from './registry.js';

/** The defaults kube-apiserver gives built-in kinds on write (Secret: type Opaque, stringData folded into data). */
export function applyBuiltinDefaults(info: ResourceInfo, object: KubeObject): void {
  if (info.group === '' && info.resource === 'secrets') {
    if (!object.type) object.type = 'Opaque';
    if (isPlainObject(object.stringData)) {
      const data: Record<string, unknown> = isPlainObject(object.data) ? { ...object.data } : {};
      for (const [k, v] of Object.entries(object.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
      object.data = data;
    }
    delete object.stringData;
  }
}
