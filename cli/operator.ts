// `shopfloor operator`: runs the operator against the cluster of a kubeconfig (or in-cluster),
// configured by flags, each with an environment variable for Helm and plain manifests.
import { DEFAULT_SYSTEM_NAMESPACE } from '../api/index.js';
import { describeSource } from '../kube/config.js';
import { createLogger, type LogLevel } from '../kube/logger.js';
import { DEFAULT_METRICS_ADDRESS, DEFAULT_NODE_LOSS_GRACE_MS, DEFAULT_VIP_CIDR, runOperator } from '../operator/index.js';
import { parseCidr } from '../operator/vip-allocator.js';
import { UsageError, type Command } from './command.js';
import { logLevelFlag, metricsAddressFlag, readFlags } from './flags.js';
import { loadKubeConfigOrLog, untilStopped } from './lifetime.js';

const usage = `usage: shopfloor operator [options]

Turns NodeWorkloads into per-node NodeAssignments, allocates service VIPs and keeps status true.
Every flag has an environment variable; the flag wins.

  --kubeconfig <file>        kubeconfig to use (else KUBECONFIG, ~/.kube/config, in-cluster)
  --namespace <ns>           namespace of node Leases and the leader Lease
                             (SHOPFLOOR_NAMESPACE or POD_NAMESPACE; default ${DEFAULT_SYSTEM_NAMESPACE})
  --vip-cidr <cidr>          range service VIPs come from (SHOPFLOOR_VIP_CIDR; default ${DEFAULT_VIP_CIDR})
  --metrics-address <h:p>    /metrics, /healthz, /readyz address, or "off"
                             (SHOPFLOOR_METRICS_ADDRESS; default ${DEFAULT_METRICS_ADDRESS})
  --leader-elect <bool>      campaign for the leader Lease before acting: true or false
                             (SHOPFLOOR_LEADER_ELECT; default true)
  --log-level <level>        fatal, error, warn, info, debug, trace or silent (SHOPFLOOR_LOG_LEVEL; default info)
  --node-loss-grace <secs>   seconds a node may be gone before Replicas workloads get replacements
                             (SHOPFLOOR_NODE_LOSS_GRACE; default ${DEFAULT_NODE_LOSS_GRACE_MS / 1000})
  --workers <n>              concurrent reconciles (SHOPFLOOR_WORKERS; default 4)

Exits 0 on SIGINT/SIGTERM (handing the leader Lease over), 1 when it loses the leader Lease.`;

export interface OperatorFlags {
  kubeconfig: string | undefined;
  namespace: string;
  vipCidr: string;
  metricsAddress: string | false;
  leaderElect: boolean;
  logLevel: LogLevel;
  nodeLossGraceMs: number;
  workers: number;
}

const OPTIONS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'vip-cidr': { type: 'string' },
  'metrics-address': { type: 'string' },
  'leader-elect': { type: 'string' },
  'log-level': { type: 'string' },
  'node-loss-grace': { type: 'string' },
  workers: { type: 'string' },
} as const;

/** Reads flags over environment over defaults; a bad value is a UsageError naming where it came from. */
export function parseOperatorFlags(argv: string[], env: Record<string, string | undefined>): OperatorFlags {
  const { pick } = readFlags(argv, OPTIONS, env);

  const namespace = pick('namespace', 'SHOPFLOOR_NAMESPACE', 'POD_NAMESPACE') ?? { value: DEFAULT_SYSTEM_NAMESPACE, from: 'default' };
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace.value) || namespace.value.length > 63) {
    throw new UsageError(`${namespace.from} "${namespace.value}" is not a namespace name (a DNS-1123 label: lowercase letters, digits, "-")`);
  }

  const cidr = pick('vip-cidr', 'SHOPFLOOR_VIP_CIDR') ?? { value: DEFAULT_VIP_CIDR, from: 'default' };
  try {
    parseCidr(cidr.value);
  } catch (err) {
    throw new UsageError(`${cidr.from}: ${(err as Error).message}`);
  }

  const metricsAddress = metricsAddressFlag(pick('metrics-address', 'SHOPFLOOR_METRICS_ADDRESS') ?? { value: DEFAULT_METRICS_ADDRESS, from: 'default' }, '127.0.0.1:8080, 0.0.0.0:8080');

  const elect = pick('leader-elect', 'SHOPFLOOR_LEADER_ELECT') ?? { value: 'true', from: 'default' };
  if (elect.value !== 'true' && elect.value !== 'false') throw new UsageError(`${elect.from} "${elect.value}" must be true or false`);

  const logLevel = logLevelFlag(pick('log-level', 'SHOPFLOOR_LOG_LEVEL') ?? { value: 'info', from: 'default' });

  const grace = pick('node-loss-grace', 'SHOPFLOOR_NODE_LOSS_GRACE') ?? { value: String(DEFAULT_NODE_LOSS_GRACE_MS / 1000), from: 'default' };
  if (!/^\d+(\.\d+)?$/.test(grace.value)) throw new UsageError(`${grace.from} "${grace.value}" must be a number of seconds, e.g. 60`);

  const workers = pick('workers', 'SHOPFLOOR_WORKERS') ?? { value: '4', from: 'default' };
  if (!/^[1-9]\d{0,2}$/.test(workers.value)) throw new UsageError(`${workers.from} "${workers.value}" must be a whole number from 1 to 999`);

  return {
    kubeconfig: pick('kubeconfig')?.value,
    namespace: namespace.value,
    vipCidr: cidr.value,
    metricsAddress,
    leaderElect: elect.value === 'true',
    logLevel,
    nodeLossGraceMs: Number(grace.value) * 1000,
    workers: Number(workers.value),
  };
}

export const operatorCommand: Command = {
  summary: 'Run the Shopfloor operator: place NodeWorkload replicas on nodes, allocate VIPs, keep status.',
  usage,
  async run(argv) {
    const flags = parseOperatorFlags(argv, process.env);
    const logger = createLogger({ name: 'shopfloor-operator', level: flags.logLevel });
    const kube = loadKubeConfigOrLog(flags.kubeconfig, logger);
    if (!kube) return 1;
    logger.info({ kubeconfig: describeSource(kube.source), namespace: flags.namespace, vipCidr: flags.vipCidr, leaderElect: flags.leaderElect }, 'starting operator');
    const op = await runOperator({
      kubeConfig: kube.kubeConfig,
      namespace: flags.namespace,
      vipCidr: flags.vipCidr,
      metricsAddress: flags.metricsAddress,
      leaderElect: flags.leaderElect,
      nodeLossGraceMs: flags.nodeLossGraceMs,
      workers: flags.workers,
      logger,
    });
    const LOST = 'leadership lost';
    const signal = await untilStopped(op.lost.then(() => LOST));
    if (signal === LOST) logger.error('lost the leader Lease: another replica leads now; exiting so that this one restarts as a follower');
    logger.info({ signal }, 'stopping operator');
    try {
      await op.stop();
      return signal === LOST ? 1 : 0;
    } catch (err) {
      logger.error({ err }, 'operator stop failed');
      return 1;
    }
  },
};
