// `shopfloor agent`: runs the node agent (for now its service proxy) against the cluster of a
// kubeconfig (or in-cluster). `shopfloor agent cleanup` removes the agent's nftables table and
// iptables chains and nothing else.
import { hostname, networkInterfaces } from 'node:os';
import { DEFAULT_FULL_RESYNC_PERIOD_MS, DEFAULT_METRICS_ADDRESS, DEFAULT_MIN_SYNC_PERIOD_MS, backendFor, runAgent } from '../agent/main.js';
import { PROXY_MODES, type ProxyMode } from '../agent/proxy/backend.js';
import { spawnRunner } from '../agent/exec.js';
import { isIPv4 } from '../agent/proxy/model.js';
import { describeSource } from '../kube/config.js';
import { createLogger, type LogLevel } from '../kube/logger.js';
import { UsageError, type Command } from './command.js';
import { logLevelFlag, metricsAddressFlag, readFlags } from './flags.js';
import { loadKubeConfigOrLog, untilStopped } from './lifetime.js';

const usage = `usage: shopfloor agent [options]
       shopfloor agent cleanup

Runs on every node: makes each NodeWorkload's service VIP (and nodePort) reach its ready
replicas, with nftables (default) or iptables. Every flag has an environment variable; the
flag wins. \`cleanup\` removes the agent's nftables table and iptables chains, nothing else.

  --kubeconfig <file>           kubeconfig to use (else KUBECONFIG, ~/.kube/config, in-cluster)
  --node-name <name>            this node's name (NODE_NAME; default the host name)
  --proxy-mode <mode>           nftables or iptables (SHOPFLOOR_PROXY_MODE; default nftables)
  --node-addresses <a,b,...>    IPv4 addresses nodePorts answer on
                                (SHOPFLOOR_NODE_ADDRESSES; default this host's non-loopback IPv4 addresses)
  --min-sync-period <secs>      least time between two rule syncs (SHOPFLOOR_MIN_SYNC_PERIOD; default ${DEFAULT_MIN_SYNC_PERIOD_MS / 1000})
  --full-resync-period <secs>   time between full rewrites of the rules (SHOPFLOOR_FULL_RESYNC_PERIOD; default ${DEFAULT_FULL_RESYNC_PERIOD_MS / 1000})
  --metrics-address <h:p>       /metrics, /healthz, /readyz address, or "off"
                                (SHOPFLOOR_METRICS_ADDRESS; default ${DEFAULT_METRICS_ADDRESS})
  --log-level <level>           fatal, error, warn, info, debug, trace or silent (SHOPFLOOR_LOG_LEVEL; default info)

Exits 0 on SIGINT/SIGTERM, leaving the rules in place so services keep working while it restarts.`;

export interface AgentFlags {
  kubeconfig: string | undefined;
  nodeName: string;
  proxyMode: ProxyMode;
  nodeAddresses: string[];
  minSyncPeriodMs: number;
  fullResyncPeriodMs: number;
  metricsAddress: string | false;
  logLevel: LogLevel;
}

const OPTIONS = {
  kubeconfig: { type: 'string' },
  'node-name': { type: 'string' },
  'proxy-mode': { type: 'string' },
  'node-addresses': { type: 'string' },
  'min-sync-period': { type: 'string' },
  'full-resync-period': { type: 'string' },
  'metrics-address': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

/** This host's non-loopback IPv4 addresses. */
export function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
}

/** Reads flags over environment over defaults; a bad value is a UsageError naming where it came from. */
export function parseAgentFlags(argv: string[], env: Record<string, string | undefined>, defaults = { hostname: hostname(), addresses: hostAddresses }): AgentFlags {
  const { pick } = readFlags(argv, OPTIONS, env);

  const node = pick('node-name', 'NODE_NAME') ?? { value: defaults.hostname.toLowerCase(), from: 'the host name' };
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(node.value) || node.value.length > 253) {
    throw new UsageError(`${node.from} "${node.value}" is not a node name (a DNS-1123 subdomain: lowercase letters, digits, "-", ".")`);
  }

  const mode = pick('proxy-mode', 'SHOPFLOOR_PROXY_MODE') ?? { value: 'nftables', from: 'default' };
  if (!(PROXY_MODES as readonly string[]).includes(mode.value)) throw new UsageError(`${mode.from} "${mode.value}" must be one of ${PROXY_MODES.join(', ')}`);

  const addressesFlag = pick('node-addresses', 'SHOPFLOOR_NODE_ADDRESSES');
  const nodeAddresses = addressesFlag ? addressesFlag.value.split(',').map((a) => a.trim()).filter(Boolean) : defaults.addresses();
  for (const a of nodeAddresses) {
    if (!isIPv4(a)) throw new UsageError(`${addressesFlag?.from ?? 'the host addresses'}: "${a}" is not an IPv4 address (e.g. 192.168.1.10)`);
  }

  const seconds = (flag: keyof typeof OPTIONS, envVar: string, defaultMs: number, min: number): number => {
    const v = pick(flag, envVar);
    if (!v) return defaultMs;
    if (!/^\d+(\.\d+)?$/.test(v.value) || Number(v.value) < min) throw new UsageError(`${v.from} "${v.value}" must be a number of seconds, at least ${min}`);
    return Number(v.value) * 1000;
  };
  const minSyncPeriodMs = seconds('min-sync-period', 'SHOPFLOOR_MIN_SYNC_PERIOD', DEFAULT_MIN_SYNC_PERIOD_MS, 0);
  const fullResyncPeriodMs = seconds('full-resync-period', 'SHOPFLOOR_FULL_RESYNC_PERIOD', DEFAULT_FULL_RESYNC_PERIOD_MS, 1);

  const metricsAddress = metricsAddressFlag(pick('metrics-address', 'SHOPFLOOR_METRICS_ADDRESS') ?? { value: DEFAULT_METRICS_ADDRESS, from: 'default' }, DEFAULT_METRICS_ADDRESS);

  const logLevel = logLevelFlag(pick('log-level', 'SHOPFLOOR_LOG_LEVEL') ?? { value: 'info', from: 'default' });

  return {
    kubeconfig: pick('kubeconfig')?.value,
    nodeName: node.value,
    proxyMode: mode.value as ProxyMode,
    nodeAddresses,
    minSyncPeriodMs,
    fullResyncPeriodMs,
    metricsAddress,
    logLevel,
  };
}

async function cleanup(argv: string[]): Promise<number> {
  if (argv.length > 0) throw new UsageError(`cleanup takes no options, got ${argv.join(' ')}`);
  const logger = createLogger({ name: 'shopfloor-agent' });
  let failed = false;
  for (const mode of PROXY_MODES) {
    try {
      await backendFor(mode, spawnRunner()).cleanup();
      logger.info({ mode }, 'removed the agent\'s rules');
    } catch (err) {
      failed = true;
      logger.error({ mode, err: (err as Error).message }, 'could not remove the agent\'s rules');
    }
  }
  return failed ? 1 : 0;
}

export const agentCommand: Command = {
  summary: 'Run the Shopfloor node agent (service proxy), or remove its rules with `cleanup`.',
  usage,
  async run(argv) {
    if (argv[0] === 'cleanup') return cleanup(argv.slice(1));
    const flags = parseAgentFlags(argv, process.env);
    const logger = createLogger({ name: 'shopfloor-agent', level: flags.logLevel });
    const kube = loadKubeConfigOrLog(flags.kubeconfig, logger);
    if (!kube) return 1;
    logger.info({ kubeconfig: describeSource(kube.source), node: flags.nodeName, proxyMode: flags.proxyMode, nodeAddresses: flags.nodeAddresses }, 'starting agent');
    const agent = await runAgent({ ...flags, kubeConfig: kube.kubeConfig, logger });
    if (agent.metricsUrl) logger.info({ url: agent.metricsUrl }, 'serving /metrics, /healthz, /readyz');
    logger.info({ signal: await untilStopped() }, 'stopping agent; the rules stay in place');
    try {
      await agent.stop();
      return 0;
    } catch (err) {
      logger.error({ err }, 'agent stop failed');
      return 1;
    }
  },
};
