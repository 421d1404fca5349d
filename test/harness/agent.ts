// The real agent for integration suites: runAgent on a test containerd (external mode, so the
// suite owns the runtime and can kill it) against a test devcluster. Its service rules go to a
// network namespace of its own, so suites never touch the host's nftables and may run side by
// side; everything else (CRI, mounts for tmpfs volumes) happens on the host as in production.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProcessRegistry } from '../../kube/metrics.js';
import { silentLogger, type Logger } from '../../kube/logger.js';
import { runChecked, spawnRunner, type Runner } from '../../agent/exec.js';
import { runAgent, type RunningAgent } from '../../agent/main.js';
import type { Registry } from 'prom-client';
import type { TestCluster } from './test-cluster.js';
import type { TestContainerd } from './containerd.js';

/** The programs that touch the network stack: they run in the agent's own namespace. */
const NETWORK_PROGRAMS = new Set(['nft', 'iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore', 'conntrack']);

export interface TestAgent {
  agent: RunningAgent;
  registry: Registry;
  nodeName: string;
  dataDir: string;
  /** Starts the agent again on the same data dir and runtime (what an agent restart is). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestAgent(o: { cluster: TestCluster; containerd: TestContainerd; nodeName?: string; staticManifestDir?: string; logServerAddress?: string; logger?: Logger }): Promise<TestAgent> {
  const netns = `sf-agent-${randomBytes(3).toString('hex')}`;
  const host = spawnRunner();
  await runChecked(host, 'ip', ['netns', 'add', netns]);
  const inNs = spawnRunner({ netns });
  const run: Runner = Object.assign((program: string, args: readonly string[], stdin?: string) => (NETWORK_PROGRAMS.has(program) ? inNs : host)(program, args, stdin), {
    start: (program: string, args: readonly string[], env?: Readonly<Record<string, string>>) => (NETWORK_PROGRAMS.has(program) ? inNs : host).start(program, args, env),
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'sf-agent-'));
  const nodeName = o.nodeName ?? `node-${randomBytes(3).toString('hex')}`;
  let registry = createProcessRegistry();
  const start = (): Promise<RunningAgent> =>
    runAgent({
      kubeConfig: o.cluster.kubeConfig,
      nodeName,
      hostname: nodeName,
      dataDir,
      runtime: { mode: 'external', endpoint: o.containerd.endpoint },
      podCIDR: o.containerd.podCIDR,
      ...(o.staticManifestDir ? { staticManifestDir: o.staticManifestDir } : {}),
      ...(o.logServerAddress ? { logServerAddress: o.logServerAddress } : {}),
      proxyMode: 'nftables',
      nodeAddresses: ['192.0.2.1'],
      metricsAddress: false,
      logger: o.logger ?? silentLogger(),
      registry,
      run,
    });
  const handle: TestAgent = {
    agent: await start(),
    registry,
    nodeName,
    dataDir,
    async restart() {
      await handle.agent.stop();
      registry = createProcessRegistry();
      handle.registry = registry;
      handle.agent = await start();
    },
    async stop() {
      const errors: unknown[] = [];
      const steps: Array<() => Promise<unknown>> = [() => handle.agent.stop(), () => runChecked(host, 'ip', ['netns', 'delete', netns]), () => rm(dataDir, { recursive: true, force: true })];
      for (const step of steps) {
        await Promise.resolve().then(step).catch((err: unknown) => errors.push(err));
      }
      if (errors.length > 0) throw errors[0];
    },
  };
  return handle;
}
