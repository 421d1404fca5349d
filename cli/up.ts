import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { DEFAULT_SYSTEM_NAMESPACE } from '../api/index.js';
import { DEFAULT_METRICS_ADDRESS as AGENT_METRICS_ADDRESS, runAgent } from '../agent/main.js';
import { PAUSE_IMAGE, buildBusyboxImages } from '../agent/runtime/busybox-images.js';
import { writeKubeconfig } from '../devcluster/credentials.js';
import { startDevcluster } from '../devcluster/index.js';
import { KubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { createLogger } from '../kube/logger.js';
import { textLogDestination } from '../kube/log-text.js';
import { NAMESPACES } from '../kube/resource.js';
import { DEFAULT_FLOOR_ADDRESS, DEFAULT_METRICS_ADDRESS as OPERATOR_METRICS_ADDRESS, DEFAULT_NODE_LOSS_GRACE_MS, DEFAULT_VIP_CIDR, runOperator } from '../operator/index.js';
import { DEFAULT_BRIDGE, DEFAULT_POD_CIDR, agentFlags, hostAddresses } from './agent.js';
import { POD_CIDR_ALLOCATED } from '../agent/node/allocated-pod-cidr.js';
import { DEFAULT_NODE_CIDR_MASK_SIZE, EXAMPLE_CLUSTER_POD_CIDR } from '../operator/pod-cidr-plan.js';
import { UsageError, type Command } from './command.js';
import { DEVCLUSTER_FLAGS } from './devcluster.js';
import { LOG_LEVEL_FLAG, flag, oneOf, parseFlags, text, type FlagOptions, type FlagParser } from './flags.js';
import { OPERATOR_FLAGS, clusterPodRange } from './operator.js';
import { untilStopped } from './lifetime.js';
import { installCrds } from './install-crds.js';
import { startKubeControlPlane, type KubeControlPlaneOptions } from './kube-control-plane.js';
import { toolBinary } from './tools-bin.js';

function metricsAt(url: string | undefined): string {
  return url === undefined ? 'off' : `${url}/metrics`;
}

const LOG_FORMATS = ['text', 'json'] as const;
const API_SERVERS = ['devcluster', 'kube-apiserver'] as const;
type ApiServer = (typeof API_SERVERS)[number];

/** The API server to run, with the binaries of the real one found where --api-server names it. */
const apiServerChoice: FlagParser<{ name: ApiServer; binaries?: KubeControlPlaneOptions['binaries'] }> = (v) => {
  const name = oneOf(API_SERVERS)(v);
  if (name === 'devcluster') return { name };
  try {
    return { name, binaries: { kubeApiserver: toolBinary('kube-apiserver', v.from), kubeControllerManager: toolBinary('kube-controller-manager', v.from) } };
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (\`npm start\` sets it where the script builds), or leave --api-server out to run the devcluster`);
  }
};

const AGENT_FLAGS = agentFlags();

/**
 * The flags of `up`: those it shares with the operator, the agent and the devcluster are theirs,
 * so each is checked and refused in the same words. `up` reads no environment variables.
 */
export const UP_FLAGS = {
  'data-dir': flag(text, { default: '.shopfloor' }),
  'api-server': flag(apiServerChoice, { default: 'devcluster' }),
  port: DEVCLUSTER_FLAGS.port,
  'vip-cidr': OPERATOR_FLAGS['vip-cidr'],
  'pod-cidr': AGENT_FLAGS['pod-cidr'],
  'cluster-pod-cidr': OPERATOR_FLAGS['cluster-pod-cidr'],
  'proxy-mode': AGENT_FLAGS['proxy-mode'],
  'metrics-address': OPERATOR_FLAGS['metrics-address'],
  'floor-address': OPERATOR_FLAGS['floor-address'],
  'agent-metrics-address': AGENT_FLAGS['metrics-address'],
  'node-loss-grace': OPERATOR_FLAGS['node-loss-grace'],
  'log-level': LOG_LEVEL_FLAG,
  'log-format': flag(oneOf(LOG_FORMATS), { default: 'text' }),
};

export type UpFlags = FlagOptions<typeof UP_FLAGS>;

export function parseUpFlags(argv: string[]): UpFlags {
  const flags = parseFlags(argv, UP_FLAGS, {});
  clusterPodRange(flags['cluster-pod-cidr'], DEFAULT_NODE_CIDR_MASK_SIZE);
  if (flags['pod-cidr'] === POD_CIDR_ALLOCATED && flags['cluster-pod-cidr'] === undefined) {
    throw new UsageError(`--pod-cidr "${POD_CIDR_ALLOCATED}" asks the operator for this node's range, but it has none to give: add --cluster-pod-cidr (e.g. ${EXAMPLE_CLUSTER_POD_CIDR}), or give --pod-cidr a range (e.g. ${DEFAULT_POD_CIDR})`);
  }
  return flags;
}

/** The API server `up` runs: where it serves, the kubeconfig for it, how it stops, and what ends it early. */
interface ApiServerPart {
  url: string;
  kubeconfigPath: string;
  /** Resolves with what happened if it stops serving for good. */
  lost: Promise<string>;
  stop(): Promise<void>;
}

/**
 * The real kube-apiserver (with etcd and kube-controller-manager) under `<dataDir>/kube-apiserver`,
 * apart from the devcluster's data, since the two keep objects in etcd differently. Its admin
 * kubeconfig is written to `<dataDir>/kubeconfig` too, where `up` tells the user to look.
 */
async function startKubeApiserver(dataDir: string, port: number, binaries: KubeControlPlaneOptions['binaries'], logger: Logger): Promise<ApiServerPart> {
  const controlPlane = await startKubeControlPlane({ dir: join(dataDir, 'kube-apiserver'), port, binaries, logger });
  const kubeconfigPath = writeKubeconfig(dataDir, controlPlane.url, controlPlane.ca, controlPlane.token);
  return { url: controlPlane.url, kubeconfigPath, lost: controlPlane.lost, stop: () => controlPlane.stop() };
}

export const upCommand: Command = {
  summary: 'Run a whole single-node Shopfloor locally: the devcluster with Shopfloor\'s CRDs, the operator, and the agent with its own containerd.',
  usage: [
    'usage: shopfloor up [--data-dir DIR] [--api-server NAME] [--port N] [--vip-cidr CIDR] [--pod-cidr CIDR] [--cluster-pod-cidr CIDR] [--proxy-mode MODE] [--metrics-address HOST:PORT]',
    '                    [--floor-address HOST:PORT] [--agent-metrics-address HOST:PORT] [--node-loss-grace SECS] [--log-level LEVEL] [--log-format FORMAT]',
    '',
    '  --data-dir DIR             state (etcd data, certificates, kubeconfig); default .shopfloor',
    '  --api-server NAME          devcluster (default: Shopfloor\'s own, needs nothing built) or kube-apiserver',
    '                             (the real one with etcd and kube-controller-manager, from $SHOPFLOOR_TOOLS_BIN,',
    '                             which `npm start` sets to where scripts/build-tools.sh builds it)',
    '  --port N                   API server port on 127.0.0.1; default 6443 (0 picks a free one)',
    `  --vip-cidr CIDR            range service virtual IPs come from; default ${DEFAULT_VIP_CIDR}`,
    `  --pod-cidr CIDR            range pod IPs of this node come from; default ${DEFAULT_POD_CIDR}`,
    '  --cluster-pod-cidr CIDR    the operator hands each node that asks (`shopfloor agent --pod-cidr allocated`,',
    `                             or this one) a /${DEFAULT_NODE_CIDR_MASK_SIZE} of its own from here, e.g. ${EXAMPLE_CLUSTER_POD_CIDR}; default none`,
    '  --proxy-mode MODE          how service VIPs are programmed on this host: nftables (default) or iptables',
    `  --metrics-address HOST:PORT  operator /metrics, /healthz, /readyz, or off; default ${OPERATOR_METRICS_ADDRESS}`,
    `  --floor-address HOST:PORT  the floor page (every node, desired beside actual, live), or off; default ${DEFAULT_FLOOR_ADDRESS}`,
    `  --agent-metrics-address HOST:PORT  agent /metrics, /healthz, /readyz, or off; default ${AGENT_METRICS_ADDRESS}`,
    `  --node-loss-grace SECS     how long a node's Lease may be expired before its replicas are placed elsewhere; default ${DEFAULT_NODE_LOSS_GRACE_MS / 1000}`,
    '  --log-level LEVEL          trace, debug, info, warn, error, fatal; default info',
    '  --log-format FORMAT        text (one line per entry, prefixed by the part that logged it) or json',
    '                             (pino JSON lines, `name` naming the part); default text',
    '',
    'Needs root: the agent runs its own containerd under DIR and programs this host\'s nftables (its',
    'own table) or iptables (its own chains). Logs go to stderr. SIGINT or SIGTERM stops',
    'and removes every pod, stops containerd and removes the agent\'s rules; the cluster state stays',
    'in DIR, and the next start brings the pods back.',
  ].join('\n'),
  async run(argv) {
    const flags = parseUpFlags(argv);
    const dataDir = flags['data-dir'];
    const { binaries } = flags['api-server'];
    const port = flags.port;
    const proxyMode = flags['proxy-mode'];
    const level = flags['log-level'];
    const stderr = pino.destination(2);
    const destination = flags['log-format'] === 'text' ? textLogDestination(stderr) : stderr;
    // Each part logs under the name it has as a binary of its own, as it would in a cluster.
    const partLogger = (part: ApiServer | 'operator' | 'agent') => createLogger({ name: part === 'kube-apiserver' ? part : `shopfloor-${part}`, level, destination });
    const logger = createLogger({ name: 'shopfloor', level, destination });

    const cluster: ApiServerPart = binaries
      ? await startKubeApiserver(dataDir, port, binaries, partLogger('kube-apiserver'))
      : { ...(await startDevcluster({ dataDir, port, logger: partLogger('devcluster') })), lost: new Promise<string>(() => undefined) };
    const stops: (() => Promise<void>)[] = [() => cluster.stop()];
    const stopAll = async (): Promise<void> => {
      for (const stop of stops.reverse()) {
        await stop().catch((err: Error) => logger.error({ err: err.message }, 'stop failed'));
      }
    };
    try {
      const { kubeConfig } = loadKubeConfig({ kubeconfig: cluster.kubeconfigPath });
      const client = new KubeClient(kubeConfig, { userAgent: 'shopfloor-up' });
      const crds = await installCrds(client);
      await client.patch(NAMESPACES, DEFAULT_SYSTEM_NAMESPACE, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_SYSTEM_NAMESPACE } }, { type: 'apply', fieldManager: 'shopfloor', force: true });
      logger.info({ crds }, 'CRDs established');

      const podCidrs = clusterPodRange(flags['cluster-pod-cidr'], DEFAULT_NODE_CIDR_MASK_SIZE);
      const operator = await runOperator({
        kubeConfig,
        vipCidr: flags['vip-cidr'],
        ...(podCidrs ? { podCidrs } : {}),
        metricsAddress: flags['metrics-address'],
        floorAddress: flags['floor-address'],
        nodeLossGraceMs: flags['node-loss-grace'],
        logger: partLogger('operator'),
      });
      stops.push(() => operator.stop());

      // This host is the single node: the agent runs its pods on a containerd of its own under
      // the data dir, with the example images built from the host's busybox and preloaded.
      const agentDir = resolve(dataDir, 'agent');
      // The static manifests dir `up` points the user at exists from the first start on.
      const staticManifestDir = resolve(dataDir, 'manifests');
      mkdirSync(staticManifestDir, { recursive: true });
      const images = await buildBusyboxImages(join(agentDir, 'images'));
      logger.info({ images }, 'example images ready');
      const agent = await runAgent({
        kubeConfig,
        nodeName: hostname().toLowerCase(),
        hostname: hostname(),
        dataDir: agentDir,
        runtime: { mode: 'managed', bridgeName: DEFAULT_BRIDGE, sandboxImage: PAUSE_IMAGE },
        podCIDR: flags['pod-cidr'],
        imagePreloadDir: join(agentDir, 'images'),
        staticManifestDir,
        proxyMode,
        nodeAddresses: hostAddresses(),
        metricsAddress: flags['agent-metrics-address'],
        // One node on this host: its logs are for this host's `shopfloor logs` only.
        logServerAddress: '127.0.0.1:0',
        logger: partLogger('agent'),
      });
      // Unlike a node agent that restarts, `up` takes the whole local Shopfloor down: pods,
      // containerd and the VIP rules go, the cluster state stays for the next start.
      stops.push(() => agent.teardown());

      console.log(
        [
          `Shopfloor is up: the ${flags['api-server'].name} serves ${cluster.url}; metrics of the operator: ${metricsAt(operator.metricsUrl)},`,
          `of the agent (pods on containerd, service proxy in ${proxyMode} mode): ${metricsAt(agent.metricsUrl)}.`,
          ...(operator.floorUrl ? [`The floor, every node with what it was asked to run beside what it runs, live: ${operator.floorUrl}`] : []),
          '',
          `  export KUBECONFIG=${join(dataDir, 'kubeconfig')}`,
          '  kubectl get crds                      # nodeworkloads, nodeassignments, nodeagents',
          '  kubectl apply -f examples/hello.yaml  # a NodeWorkload with a service VIP',
          '  kubectl get nw,na                     # placement, readiness, VIP',
          '  kubectl describe nw hello             # conditions and events',
          '  kubectl scale nw/hello --replicas=3   # more replicas behind the same VIP',
          '  npx shopfloor logs nw/hello           # a replica\'s container log (-f follows)',
          proxyMode === 'nftables'
            ? '  nft list table ip shopfloor           # the VIP rules the agent programmed'
            : '  iptables-save -t nat | grep SHOPFLOOR # the VIP rules the agent programmed',
          '',
          '  kubectl wait --for=condition=Ready nw/hello',
          '  curl http://$(kubectl get nw hello -o jsonpath={.status.clusterIP})/',
          '',
          `Static workloads: drop NodeWorkload files into ${staticManifestDir}/.`,
          `Stop with Ctrl-C; state stays in ${dataDir}/.`,
        ].join('\n'),
      );

      const signal = await untilStopped(Promise.race([operator.failed.then((err) => `operator failed: ${err.message}`), cluster.lost]));
      logger.info({ signal }, 'stopping');
      return signal.startsWith('SIG') ? 0 : 1;
    } finally {
      await stopAll();
    }
  },
};
