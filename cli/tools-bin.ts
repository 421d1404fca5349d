// The Kubernetes binaries scripts/build-tools.sh builds from pinned Go modules (kube-apiserver,
// kube-controller-manager, kube-proxy, kubelet, kubectl, helm, crictl, containerd 2) live in a
// cache outside the clone; `npm start` and `npm test` export that bin directory as
// SHOPFLOOR_TOOLS_BIN.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

export const TOOLS_BIN_SETTING = 'SHOPFLOOR_TOOLS_BIN';

/** The path of a built tool, or an error saying which variable to set and how to build it. */
export function toolBinary(name: string, neededFor: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[TOOLS_BIN_SETTING];
  if (!dir) {
    throw new Error(`${neededFor} needs ${name} from ${TOOLS_BIN_SETTING}, which is not set; run scripts/build-tools.sh and set ${TOOLS_BIN_SETTING} to the bin directory it prints`);
  }
  const path = join(dir, name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${neededFor} needs ${name}, but ${TOOLS_BIN_SETTING}=${dir} has no executable ${name}; run scripts/build-tools.sh and set ${TOOLS_BIN_SETTING} to the bin directory it prints`);
  }
  return path;
}
