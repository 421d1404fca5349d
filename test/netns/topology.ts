// Network namespaces for proxy tests: a "node" namespace where the rules live, a client
// namespace routed through it, and endpoint namespaces on a bridge in the node (like pods on a
// CNI bridge), each running echo-server.ts. Names carry a random suffix so suites run in
// parallel; destroy() removes every namespace and process, also after a failed setup.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { runChecked, spawnRunner, type Runner } from '../../agent/exec.js';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface EndpointNs {
  name: string;
  ns: string;
  ip: string;
}

export interface Topology {
  node: string;
  client: string;
  /** The node's address facing the client: where nodePorts answer. */
  nodeAddress: string;
  /** The node's address on the endpoints' bridge: what a masqueraded connection comes from. */
  bridgeAddress: string;
  clientAddress: string;
  endpoints: EndpointNs[];
  /** Runs a program inside the node namespace. */
  runInNode: Runner;
  /** Runs probe.ts in a namespace and returns its answers. */
  probe(ns: string, args: string[]): Promise<string[]>;
  destroy(): Promise<void>;
}

const ip = spawnRunner();

async function sh(args: string[]): Promise<void> {
  await runChecked(ip, 'ip', args);
}

function startServer(ns: string, name: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', `${here}echo-server.ts`, '--name', name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`echo server ${name} in ${ns} exited with ${code}: ${err}`)));
  });
}

export async function createTopology(endpointCount: number): Promise<Topology> {
  const id = randomBytes(3).toString('hex');
  const node = `sfp-${id}-node`;
  const client = `sfp-${id}-client`;
  const endpoints: EndpointNs[] = Array.from({ length: endpointCount }, (_, i) => ({ name: `ep${i + 1}`, ns: `sfp-${id}-ep${i + 1}`, ip: `10.244.0.${11 + i}` }));
  const namespaces = [node, client, ...endpoints.map((e) => e.ns)];
  const servers: ChildProcess[] = [];
  const destroy = async (): Promise<void> => {
    for (const s of servers) s.kill('SIGTERM');
    await Promise.all(servers.map((s) => (s.exitCode === null ? new Promise((r) => s.once('exit', r)) : undefined)));
    for (const ns of namespaces) await ip('ip', ['netns', 'del', ns]);
  };
  try {
    for (const ns of namespaces) await sh(['netns', 'add', ns]);
    const inNs = (ns: string, ...args: string[]) => sh(['-n', ns, ...args]);
    for (const ns of namespaces) await inNs(ns, 'link', 'set', 'lo', 'up');
    await runChecked(ip, 'ip', ['netns', 'exec', node, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    // client <-> node
    await inNs(node, 'link', 'add', 'to-client', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client);
    await inNs(node, 'addr', 'add', '10.200.0.1/24', 'dev', 'to-client');
    await inNs(node, 'link', 'set', 'to-client', 'up');
    await inNs(client, 'addr', 'add', '10.200.0.2/24', 'dev', 'eth0');
    await inNs(client, 'link', 'set', 'eth0', 'up');
    await inNs(client, 'route', 'add', 'default', 'via', '10.200.0.1');
    // endpoints on a bridge in the node
    await inNs(node, 'link', 'add', 'br0', 'type', 'bridge');
    await inNs(node, 'addr', 'add', '10.244.0.1/24', 'dev', 'br0');
    await inNs(node, 'link', 'set', 'br0', 'up');
    for (const [i, ep] of endpoints.entries()) {
      await inNs(node, 'link', 'add', `to-ep${i + 1}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ep.ns);
      await inNs(node, 'link', 'set', `to-ep${i + 1}`, 'master', 'br0', 'up');
      // As the CNI bridge plugin's hairpinMode: with bridge netfilter on, a pod's connection to
      // its own service is bridged back out of the port it came in on.
      await inNs(node, 'link', 'set', `to-ep${i + 1}`, 'type', 'bridge_slave', 'hairpin', 'on');
      await inNs(ep.ns, 'addr', 'add', `${ep.ip}/24`, 'dev', 'eth0');
      await inNs(ep.ns, 'link', 'set', 'eth0', 'up');
      await inNs(ep.ns, 'route', 'add', 'default', 'via', '10.244.0.1');
    }
    // Virtual IPs are routed somewhere, as on a real node (a default route), so that traffic to
    // a VIP without endpoints reaches the forward and output hooks where it is rejected.
    await inNs(node, 'route', 'add', '10.96.0.0/16', 'dev', 'br0');
    for (const ep of endpoints) servers.push(await startServer(ep.ns, ep.name));
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    node,
    client,
    nodeAddress: '10.200.0.1',
    bridgeAddress: '10.244.0.1',
    clientAddress: '10.200.0.2',
    endpoints,
    runInNode: spawnRunner({ netns: node }),
    async probe(ns, args) {
      const r = await runChecked(ip, 'ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', `${here}probe.ts`, ...args]);
      return JSON.parse(r.stdout) as string[];
    },
    destroy,
  };
}
