import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { DEFAULT_SYSTEM_NAMESPACE } from '../api/index.js';
import { startDevcluster } from '../devcluster/index.js';
import { KubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { createLogger, parseLogLevel } from '../kube/logger.js';
import type { ResourceType } from '../kube/resource.js';
import { DEFAULT_VIP_CIDR, runOperator } from '../operator/index.js';
import { UsageError, type Command } from './command.js';
import { installCrds } from './install-crds.js';

const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };

export const upCommand: Command = {
  summary: 'Run a whole single-node Shopfloor locally: the devcluster with Shopfloor\'s CRDs, and the operator.',
  usage: [
    'usage: shopfloor up [--data-dir DIR] [--port N] [--vip-cidr CIDR] [--metrics-address HOST:PORT] [--log-level LEVEL]',
    '',
    '  --data-dir DIR             state (etcd data, certificates, kubeconfig); default .shopfloor',
    '  --port N                   API server port on 127.0.0.1; default 6443 (0 picks a free one)',
    `  --vip-cidr CIDR            range service virtual IPs come from; default ${DEFAULT_VIP_CIDR}`,
    '  --metrics-address HOST:PORT  operator /metrics, /healthz, /readyz; default 127.0.0.1:8080',
    '  --log-level LEVEL          trace, debug, info, warn, error, fatal; default info',
    '',
    'Logs go to stderr as JSON lines. SIGINT or SIGTERM stops everything; state stays in DIR.',
  ].join('\n'),
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          'data-dir': { type: 'string', default: '.shopfloor' },
          port: { type: 'string', default: '6443' },
          'vip-cidr': { type: 'string', default: DEFAULT_VIP_CIDR },
          'metrics-address': { type: 'string', default: '127.0.0.1:8080' },
          'log-level': { type: 'string', default: 'info' },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const dataDir = values['data-dir'];
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) throw new UsageError(`--port: "${values.port}" is not a port number (0-65535)`);
    let level;
    try {
      level = parseLogLevel(values['log-level']);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const logger = createLogger({ name: 'shopfloor', level, destination: pino.destination(2) });

    const devcluster = await startDevcluster({ dataDir, port, logger: logger.child({ component: 'devcluster' }) });
    const stops: (() => Promise<void>)[] = [() => devcluster.stop()];
    const stopAll = async (): Promise<void> => {
      for (const stop of stops.reverse()) {
        await stop().catch((err: Error) => logger.error({ err: err.message }, 'stop failed'));
      }
    };
    try {
      const { kubeConfig } = loadKubeConfig({ kubeconfig: devcluster.kubeconfigPath });
      const client = new KubeClient(kubeConfig, { userAgent: 'shopfloor-up' });
      const crds = await installCrds(client);
      await client.patch(NAMESPACES, DEFAULT_SYSTEM_NAMESPACE, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_SYSTEM_NAMESPACE } }, { type: 'apply', fieldManager: 'shopfloor', force: true });
      logger.info({ crds }, 'CRDs established');

      const operator = await runOperator({
        kubeConfig,
        vipCidr: values['vip-cidr'],
        metricsAddress: values['metrics-address'],
        logger: logger.child({ component: 'operator' }),
      });
      stops.push(() => operator.stop());

      console.log(
        [
          `Shopfloor is up: the devcluster serves ${devcluster.url}; the operator's metrics are at ${operator.metricsUrl ?? '(off)'}/metrics.`,
          '',
          `  export KUBECONFIG=${join(dataDir, 'kubeconfig')}`,
          '  kubectl get crds                      # nodeworkloads, nodeassignments, nodeagents',
          '  kubectl apply -f examples/hello.yaml  # a NodeWorkload with a service VIP',
          '  kubectl get nw,na                     # placement, readiness, VIP',
          '  kubectl describe nw hello             # conditions and events',
          '',
          'Replicas are placed on nodes whose Shopfloor agent has registered a NodeAgent; until one',
          'has, a workload reports Unschedulable in its Degraded condition.',
          `Stop with Ctrl-C; state stays in ${dataDir}/.`,
        ].join('\n'),
      );

      const signal = await new Promise<string>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
        void operator.lost.then(() => resolve('operator lost its leader lease'));
      });
      logger.info({ signal }, 'stopping');
      return signal.startsWith('SIG') ? 0 : 1;
    } finally {
      await stopAll();
    }
  },
};
