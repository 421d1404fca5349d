// `shopfloor operator`: runs the operator against the cluster of a kubeconfig (or in-cluster),
// configured by flags, each with an environment variable for Helm and plain manifests.
import { DEFAULT_SYSTEM_NAMESPACE } from '../api/index.js';
import { describeSource } from '../kube/config.js';
import { createLogger, type LogLevel } from '../kube/logger.js';
import { DEFAULT_FLOOR_ADDRESS, DEFAULT_METRICS_ADDRESS, DEFAULT_NODE_LOSS_GRACE_MS, DEFAULT_VIP_CIDR, runOperator } from '../operator/index.js';
import { parseCidr } from '../operator/ipv4.js';
import { EXAMPLE_CLUSTER_POD_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE, podCidrRange, type PodCidrRange } from '../operator/pod-cidr-plan.js';
import { UsageError, type Command } from './command.js';
import { LOG_LEVEL_FLAG, NAMESPACE_FLAG, boolean, flag, listenAddress, optionalFlag, parseFlags, seconds, text, wholeNumber, type FlagParser } from './flags.js';
import { loadKubeConfigOrLog, untilStopped } from './lifetime.js';

const usage = `usage: shopfloor operator [options]

Turns NodeWorkloads into per-node NodeAssignments, allocates service VIPs and keeps status true.
Every flag has an environment variable; the flag wins.

  --kubeconfig <file>        kubeconfig to use (else KUBECONFIG, ~/.kube/config, in-cluster)
  --namespace <ns>           namespace of node Leases and the leader Lease
                             (SHOPFLOOR_NAMESPACE or POD_NAMESPACE; default ${DEFAULT_SYSTEM_NAMESPACE})
  --vip-cidr <cidr>          range service VIPs come from (SHOPFLOOR_VIP_CIDR; default ${DEFAULT_VIP_CIDR})
  --cluster-pod-cidr <cidr>  hand each node whose agent runs with --pod-cidr allocated a pod range of its own
                             from this range, e.g. ${EXAMPLE_CLUSTER_POD_CIDR} (SHOPFLOOR_CLUSTER_POD_CIDR; default none:
                             every agent brings its own --pod-cidr)
  --node-cidr-mask-size <n>  prefix length of each node's pod range (SHOPFLOOR_NODE_CIDR_MASK_SIZE; default ${DEFAULT_NODE_CIDR_MASK_SIZE})
  --metrics-address <h:p>    /metrics, /healthz, /readyz address, or "off"
                             (SHOPFLOOR_METRICS_ADDRESS; default ${DEFAULT_METRICS_ADDRESS})
  --floor-address <h:p>      the floor page: every node, desired beside actual, live; or "off"
                             (SHOPFLOOR_FLOOR_ADDRESS; default ${DEFAULT_FLOOR_ADDRESS}). Off loopback its data
                             needs a bearer token allowed to list nodeworkloads (TokenReview, SubjectAccessReview)
  --leader-elect <bool>      campaign for the leader Lease before acting: true or false
                             (SHOPFLOOR_LEADER_ELECT; default true)
  --log-level <level>        fatal, error, warn, info, debug, trace or silent (SHOPFLOOR_LOG_LEVEL; default info)
  --node-loss-grace <secs>   seconds a node may be gone before Replicas workloads get replacements
                             (SHOPFLOOR_NODE_LOSS_GRACE; default ${DEFAULT_NODE_LOSS_GRACE_MS / 1000})
  --workers <n>              concurrent reconciles (SHOPFLOOR_WORKERS; default 4)

Exits 0 on SIGINT/SIGTERM (handing the leader Lease over), 1 when it loses the leader Lease or
a part of it fails (handing the Lease over too).`;

export interface OperatorFlags {
  kubeconfig: string | undefined;
  namespace: string;
  vipCidr: string;
  /** Where allocated node pod ranges come from; undefined when none are handed out. */
  podCidrs: PodCidrRange | undefined;
  metricsAddress: string | false;
  floorAddress: string | false;
  leaderElect: boolean;
  logLevel: LogLevel;
  nodeLossGraceMs: number;
  workers: number;
}

const vipRange: FlagParser<string> = (v) => {
  try {
    parseCidr(v.value);
  } catch (err) {
    throw new UsageError(`${v.from}: ${(err as Error).message}`);
  }
  return v.value;
};

/** The two flags of node pod range allocation, checked together: each node's range must fit the cluster's. */
export function clusterPodRange(cidr: string | undefined, maskSize: number): PodCidrRange | undefined {
  if (cidr === undefined) return undefined;
  try {
    return podCidrRange(cidr, maskSize);
  } catch (err) {
    throw new UsageError(`--cluster-pod-cidr, --node-cidr-mask-size: ${(err as Error).message}`);
  }
}

/** The operator's flags; `shopfloor up` reuses those it shares. */
export const OPERATOR_FLAGS = {
  kubeconfig: optionalFlag(text),
  namespace: NAMESPACE_FLAG,
  'vip-cidr': flag(vipRange, { env: ['SHOPFLOOR_VIP_CIDR'], default: DEFAULT_VIP_CIDR }),
  'cluster-pod-cidr': optionalFlag(text, { env: ['SHOPFLOOR_CLUSTER_POD_CIDR'] }),
  'node-cidr-mask-size': flag(wholeNumber(8, 30), { env: ['SHOPFLOOR_NODE_CIDR_MASK_SIZE'], default: String(DEFAULT_NODE_CIDR_MASK_SIZE) }),
  'metrics-address': flag(listenAddress('127.0.0.1:8080, 0.0.0.0:8080'), { env: ['SHOPFLOOR_METRICS_ADDRESS'], default: DEFAULT_METRICS_ADDRESS }),
  'floor-address': flag(listenAddress('127.0.0.1:8090, 0.0.0.0:8090'), { env: ['SHOPFLOOR_FLOOR_ADDRESS'], default: DEFAULT_FLOOR_ADDRESS }),
  'leader-elect': flag(boolean, { env: ['SHOPFLOOR_LEADER_ELECT'], default: 'true' }),
  'log-level': LOG_LEVEL_FLAG,
  'node-loss-grace': flag(seconds(0), { env: ['SHOPFLOOR_NODE_LOSS_GRACE'], default: String(DEFAULT_NODE_LOSS_GRACE_MS / 1000) }),
  workers: flag(wholeNumber(1, 999), { env: ['SHOPFLOOR_WORKERS'], default: '4' }),
};

/** Reads flags over environment over defaults; a bad value is a UsageError naming where it came from. */
export function parseOperatorFlags(argv: string[], env: Record<string, string | undefined>): OperatorFlags {
  const f = parseFlags(argv, OPERATOR_FLAGS, env);
  return {
    kubeconfig: f.kubeconfig,
    namespace: f.namespace,
    vipCidr: f['vip-cidr'],
    podCidrs: clusterPodRange(f['cluster-pod-cidr'], f['node-cidr-mask-size']),
    metricsAddress: f['metrics-address'],
    floorAddress: f['floor-address'],
    leaderElect: f['leader-elect'],
    logLevel: f['log-level'],
    nodeLossGraceMs: f['node-loss-grace'],
    workers: f.workers,
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
    logger.info({ kubeconfig: describeSource(kube.source), namespace: flags.namespace, vipCidr: flags.vipCidr, clusterPodCidr: flags.podCidrs?.cluster.text, leaderElect: flags.leaderElect }, 'starting operator');
    const op = await runOperator({
      kubeConfig: kube.kubeConfig,
      namespace: flags.namespace,
      vipCidr: flags.vipCidr,
      ...(flags.podCidrs ? { podCidrs: flags.podCidrs } : {}),
      metricsAddress: flags.metricsAddress,
      floorAddress: flags.floorAddress,
      leaderElect: flags.leaderElect,
      nodeLossGraceMs: flags.nodeLossGraceMs,
      workers: flags.workers,
      logger,
    });
    let failure: Error | undefined;
    const signal = await untilStopped(op.failed.then((err) => ((failure = err), 'failure')));
    if (failure) logger.error({ err: failure.message }, 'the operator cannot go on; exiting so that it restarts (as a follower, should another replica lead now)');
    logger.info({ signal }, 'stopping operator');
    try {
      await op.stop();
      return failure ? 1 : 0;
    } catch (err) {
      logger.error({ err }, 'operator stop failed');
      return 1;
    }
  },
};
