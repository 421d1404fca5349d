// A floor server off loopback, for floor-page-token.test.ts: the operator's FloorServer on
// HOST:PORT (an address of the suite's network namespace, where this runs), fed by a handwritten
// floor and checking tokens with a reviewer that knows two: `good` may list nodeworkloads, `weak`
// may not; any other is not authenticated. Lines on stdin drive it: `change` sends a row before
// its node's card, then the card; `restart` closes every stream, and serves the second floor on
// the same port. It answers each line with `done <line>` on stdout, after printing its URL first.
import { createInterface } from 'node:readline';
import { FloorServer } from '../../operator/floor/floor-server.js';
import type { AssignmentRow, FloorChange, FloorItem, FloorSnapshot, NodeCard } from '../../operator/floor/floor-view.js';
import { silentLogger } from '../../kube/logger.js';
import type { Reviewer } from '../../kube/webhook-auth.js';

const host = process.argv[2] ?? '';
let port = Number(process.argv[3]);

function node(key: string): NodeCard {
  return { kind: 'node', key, state: 'Ready', stateWords: { text: 'agent ready, runtime answers' }, leaseRenewTime: new Date().toISOString(), unschedulable: false,
    cpu: { requested: 100, allocatable: 2000 }, memory: { requested: 64 * 1024 * 1024, allocatable: 4 * 1024 ** 3 }, pods: { requested: 1, allocatable: 110 } };
}

function row(name: string, nodeName: string): AssignmentRow {
  return { kind: 'assignment', key: `default/${name}`, node: nodeName, workload: 'default/web', phase: 'Running', ready: true, restarts: 0, podIP: '10.244.0.2', revision: 'r1', differences: [] };
}

const floors: FloorItem[][] = [
  [node('node-a'), row('web-1', 'node-a')],
  [node('node-a'), row('web-2', 'node-a')],
];
let floor = floors[0]!;
const listeners = new Set<(change: FloorChange) => void>();
const feed = {
  snapshotJson: (): string => JSON.stringify({ serverTime: new Date().toISOString(), items: floor } satisfies FloorSnapshot),
  subscribe(listener: (change: FloorChange) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
const send = (upsert: FloorItem[]) => {
  for (const l of listeners) l({ serverTime: new Date().toISOString(), upsert, remove: [] });
};

const reviewer: Reviewer = {
  authenticate: async (token) => (token === 'good' || token === 'weak' ? { username: token, groups: [] } : undefined),
  authorize: async (user) => ({ allowed: user.username === 'good', reason: user.username === 'good' ? '' : 'no RBAC rule allows it' }),
};

let server = new FloorServer({ host, port, feed, reviewer, logger: silentLogger() });
await server.start();
console.log(server.url);
// The same port again after a restart, as an operator's restart keeps its --floor-address.
port = Number(new URL(server.url!).port);

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'change') {
    send([row('web-3', 'node-b')]);
    send([node('node-b')]);
  } else if (line === 'restart') {
    await server.stop();
    floor = floors[1]!;
    server = new FloorServer({ host, port, feed, reviewer, logger: silentLogger() });
    await server.start();
  }
  console.log(`done ${line}`);
}
await server.stop();
