// What every long-running command does around its work: load the cluster configuration once
// with an error a user can act on, and run until SIGINT or SIGTERM.
import type { Logger } from 'pino';
import { loadKubeConfig } from '../kube/config.js';

/** The kubeconfig the flag (or KUBECONFIG, ~/.kube/config, in-cluster) names; undefined after logging why it cannot be loaded. */
export function loadKubeConfigOrLog(kubeconfig: string | undefined, logger: Logger): ReturnType<typeof loadKubeConfig> | undefined {
  try {
    return loadKubeConfig({ kubeconfig });
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'cannot load the Kubernetes configuration');
    return undefined;
  }
}

/** Resolves with the first of SIGINT, SIGTERM, or what `other` resolves with (e.g. a lost leader Lease). */
export function untilStopped(other?: Promise<string>): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    void other?.then(resolve);
  });
}
