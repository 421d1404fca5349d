import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startDevcluster } from '../devcluster/index.js';
import { UsageError, type Command } from './command.js';
import { untilStopped } from './lifetime.js';

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
    let values;
    try {
      ({ values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } }, strict: true, allowPositionals: false }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const dataDir = values['data-dir'];
    if (!dataDir) throw new UsageError('--data-dir is required');
    const portText = values.port ?? '6443';
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new UsageError(`--port: "${portText}" is not a port number (0-65535)`);
    const logger = pino({ name: 'devcluster' });
    const dc = await startDevcluster({ dataDir, port: Number(portText), ...(values.host ? { host: values.host } : {}), logger });
    console.error(`devcluster serving at ${dc.url}\nexport KUBECONFIG=${dc.kubeconfigPath}`);
    logger.info({ signal: await untilStopped() }, 'stopping devcluster');
    await dc.stop().catch((err: Error) => logger.error({ err: err.message }, 'devcluster stop failed'));
    return 0;
  },
};
