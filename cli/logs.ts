// `shopfloor logs`: a container's log straight from the agent of the node it runs on, as
// `kubectl logs` reads a pod's through kubelet. It resolves a NodeWorkload to one of its
// assignments, finds that node's NodeAgent, and asks the log server the NodeAgent announces,
// trusting only the CA announced with it and authenticating with the kubeconfig's bearer token.
import type { OutgoingHttpHeaders } from 'node:http';
import { request, type RequestOptions } from 'node:https';
import { LABEL_WORKLOAD, type NodeAgent, type NodeAssignment } from '../api/index.js';
import { KubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { isNotFound } from '../kube/errors.js';
import { NODE_AGENTS, NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import type { Command } from './command.js';
import { logRequestPath, parseLogsArgs, pickContainer, pickReplica, type LogsArgs } from './logs-args.js';

const usage = `usage: shopfloor logs <nw/NAME | na/NAME | NAME> [-c CONTAINER] [-f] [-p] [--tail N] [--since DURATION]
                     [--timestamps] [-n NAMESPACE] [--kubeconfig FILE]

Prints the log of a container of a NodeAssignment, read from the agent of its node. A
NodeWorkload (nw/NAME) stands for one of its replicas, running and ready ones first; a bare
NAME is an assignment if one has that name, else a workload.

  -c, --container NAME   the container (default: the first, with a note when there are more)
  -f, --follow           keep printing new lines until the container stops (Ctrl-C to stop)
  -p, --previous         the previous instance of the container (after a restart)
      --tail N           only the last N lines (-1, the default, for all)
      --since DURATION   only lines newer than this, e.g. 30s, 5m, 1h
      --timestamps       each line after the time the runtime recorded it
  -n, --namespace NS     default: the kubeconfig context's, else default
      --kubeconfig FILE  else KUBECONFIG, ~/.kube/config, in-cluster

Needs get on nodeassignments (and nodeworkloads, nodeagents) and get on nodeassignments/log
(group shopfloor.dev) for the agent to answer, and a bearer token in the kubeconfig.`;

/** A failure the user can act on: printed alone, exit code 1. */
class LogsError extends Error {}

export const logsCommand: Command = {
  summary: 'Print (or follow) the log of a NodeAssignment\'s container, read from its node\'s agent.',
  usage,
  async run(argv) {
    const args = parseLogsArgs(argv);
    try {
      return await printLogs(args);
    } catch (err) {
      if (!(err instanceof LogsError)) throw err;
      console.error(`shopfloor logs: ${err.message}`);
      return 1;
    }
  },
};

async function printLogs(args: LogsArgs): Promise<number> {
  let loaded: ReturnType<typeof loadKubeConfig>;
  try {
    loaded = loadKubeConfig({ kubeconfig: args.kubeconfig });
  } catch (err) {
    throw new LogsError((err as Error).message);
  }
  const { kubeConfig } = loaded;
  const namespace = args.namespace ?? kubeConfig.selected.context.namespace ?? 'default';
  const client = new KubeClient(kubeConfig, { userAgent: 'shopfloor-logs' });
  const assignment = await resolve(client, args, namespace);
  const { container, note } = (() => {
    try {
      return pickContainer(assignment, args.container);
    } catch (err) {
      throw new LogsError((err as Error).message);
    }
  })();
  if (note) console.error(note);

  const nodeName = assignment.spec.nodeName;
  const agent = await client.get<NodeAgent>(NODE_AGENTS, nodeName).catch((err: unknown) => {
    if (isNotFound(err)) throw new LogsError(`node ${nodeName} of NodeAssignment ${namespace}/${assignment.metadata.name} has no NodeAgent; is its agent running?`);
    throw err;
  });
  const endpoint = agent.status?.daemonEndpoints?.logServer;
  if (!endpoint) throw new LogsError(`the agent of node ${nodeName} does not announce a log server (NodeAgent ${nodeName} has no status.daemonEndpoints.logServer); start it with --log-server-address, or update it`);

  const credentials: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(credentials);
  const authorization = (credentials.headers as OutgoingHttpHeaders | undefined)?.['Authorization'];
  if (typeof authorization !== 'string') {
    throw new LogsError(`the kubeconfig's user ${kubeConfig.selected.user?.name ?? '(none)'} has no bearer token (token, tokenFile or an exec plugin that returns one); the agent's log server authenticates bearer tokens only`);
  }
  const path = logRequestPath(namespace, assignment.metadata.name ?? '', container, args);
  return stream({ host: endpoint.address, port: endpoint.port, ca: Buffer.from(endpoint.caBundle, 'base64'), path, headers: { Authorization: authorization } }, nodeName);
}

/** The assignment the arguments name, directly or as the replica of a workload. */
async function resolve(client: KubeClient, args: LogsArgs, namespace: string): Promise<NodeAssignment> {
  if (args.kind !== 'workload') {
    try {
      return await client.get<NodeAssignment>(NODE_ASSIGNMENTS, args.name, { namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if (args.kind === 'assignment') throw new LogsError(`no NodeAssignment "${args.name}" in namespace ${namespace}`);
    }
  }
  try {
    await client.get(NODE_WORKLOADS, args.name, { namespace });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    throw new LogsError(args.kind === 'workload' ? `no NodeWorkload "${args.name}" in namespace ${namespace}` : `no NodeAssignment or NodeWorkload "${args.name}" in namespace ${namespace}`);
  }
  const { items } = await client.listAll<NodeAssignment>(NODE_ASSIGNMENTS, { namespace, labelSelector: `${LABEL_WORKLOAD}=${args.name}` });
  const replica = pickReplica(items);
  if (!replica) throw new LogsError(`NodeWorkload ${namespace}/${args.name} has no replica yet (no NodeAssignment); see kubectl describe nw ${args.name} -n ${namespace}`);
  return replica;
}

/** Streams the log server's answer to stdout; its error to stderr. */
function stream(options: RequestOptions, nodeName: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ ...options, method: 'GET' }, (res) => {
      const status = res.statusCode ?? 0;
      if (status === 200) {
        res.pipe(process.stdout, { end: false });
        res.on('end', () => resolvePromise(0));
        res.on('error', reject);
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => reject(new LogsError(`the log server of node ${nodeName} answered ${status}: ${body.trim()}`)));
    });
    req.on('error', (err) => reject(new LogsError(`cannot read the log from the log server of node ${nodeName} at ${options.host}:${options.port}: ${err.message}`)));
    req.end();
  });
}
