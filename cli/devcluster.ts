import { pino } from 'pino';
import { startDevcluster } from '../devcluster/index.js';
import type { Command } from './command.js';
import { flag, optionalFlag, parseFlags, portNumber, requiredFlag, text } from './flags.js';
import { untilStopped } from './lifetime.js';

/** The devcluster's flags; `shopfloor up` reuses --port. */
export const DEVCLUSTER_FLAGS = {
  'data-dir': requiredFlag(text),
  port: flag(portNumber, { default: '6443' }),
  host: optionalFlag(text),
};

export const devclusterCommand: Command = {
  summary: 'Run a local Kubernetes-API-compatible control plane on etcd (for npm start and tests; not for production).',
  usage: [
    'usage: shopfloor devcluster --data-dir <dir> [--port N] [--host ADDR]',
    '',
    '  --data-dir <dir>  where etcd data, certificates, the token and the kubeconfig live (required)',
    '  --port N          HTTPS port (default 6443; 0 picks a free one)',
    '  --host ADDR       listen address (default 127.0.0.1)',
    '',
    'Writes <dir>/kubeconfig for kubectl and client-node. SIGINT or SIGTERM stops the API and etcd.',
  ].join('\n'),
  async run(argv) {
    const { 'data-dir': dataDir, port, host } = parseFlags(argv, DEVCLUSTER_FLAGS, {});
    const logger = pino({ name: 'devcluster' });
    const dc = await startDevcluster({ dataDir, port, ...(host ? { host } : {}), logger });
    console.error(`devcluster serving at ${dc.url}\nexport KUBECONFIG=${dc.kubeconfigPath}`);
    logger.info({ signal: await untilStopped() }, 'stopping devcluster');
    await dc.stop().catch((err: Error) => logger.error({ err: err.message }, 'devcluster stop failed'));
    return 0;
  },
};
