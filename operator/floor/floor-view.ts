// What the floor page shows, as the operator's floor server sends it: the shape shared by the
// model that builds it (floor-model.ts), the server that streams it (floor-server.ts) and the page
// that draws it (page/floor.js). Every item has a kind and a key; the page keeps one element per
// item and redraws only the items a change names.
//
// Times are RFC 3339 instants, never ages: an age would change every second and make every item
// new on every send, so the page turns instants into "12 s ago" or "in 40 s" itself, offset by
// the server's clock (FloorSnapshot.serverTime).
import type { Phase } from '../../api/index.js';

/** A sentence with an optional time in it: the page puts "12 s ago" (or "in 40 s") where `{time}` stands. */
export interface Words {
  text: string;
  /** RFC 3339; present exactly when `text` holds `{time}`. */
  time?: string;
}

/**
 * A node as Kubernetes shows a Node's Ready condition: Ready while its Lease is renewed and its
 * runtime answers, NotReady when the agent says its runtime does not, Unknown once the Lease has
 * expired (the agent stopped reporting).
 */
export type NodeState = 'Ready' | 'NotReady' | 'Unknown';

/** Requested beside allocatable; allocatable absent while the agent has not reported it. */
export interface Amount {
  requested: number;
  allocatable?: number;
}

export interface NodeCard {
  kind: 'node';
  /** The NodeAgent's name. */
  key: string;
  state: NodeState;
  /** Why the state is what it is: the Ready condition's message, or the Lease's expiry. */
  stateWords: Words;
  /** When the Lease was last renewed. */
  leaseRenewTime?: string;
  unschedulable: boolean;
  /** Millicores. */
  cpu: Amount;
  /** Bytes. */
  memory: Amount;
  /** Replicas placed here beside allocatable pods. */
  pods: Amount;
  podCIDR?: string;
  /** The agent's service rules, once it reports them. */
  proxy?: { inSync: boolean; lastSyncTime?: string; rules: number; servicePorts: number; message?: string };
}

/** A replica on its node: one row of the node's card. */
export interface AssignmentRow {
  kind: 'assignment';
  /** `namespace/name` of the NodeAssignment. */
  key: string;
  node: string;
  /** `namespace/name` of its NodeWorkload. */
  workload: string;
  phase: Phase;
  ready: boolean;
  restarts: number;
  /** The last reason worth a look: CrashLoopBackOff with its next try, ImagePullBackOff, a failing probe, a termination. */
  reason?: Words;
  podIP?: string;
  /** Its template revision (a hash). */
  revision: string;
  /** When the operator placed it. */
  placedAt?: string;
  /** Every way in which what runs differs from what was asked, in words; empty when they agree. */
  differences: Words[];
}

/** A node that could not take a replica, and why (the scheduler's words). */
export interface NodeRefusal {
  node: string;
  reason: string;
}

export interface WorkloadView {
  kind: 'workload';
  /** `namespace/name`. */
  key: string;
  mode: 'Replicas' | 'EveryNode';
  desired: number;
  placed: number;
  ready: number;
  /** Ready replicas of the current revision. */
  available: number;
  currentRevision?: string;
  /** Where its replicas are: assignment keys with their nodes. */
  replicas: { assignment: string; node: string }[];
  /** For replicas not placed: why each node refused one. Empty when all are placed. */
  unplaced: NodeRefusal[];
  /** Its conditions that are not as they should be (Degraded True, Available False, …), in words. */
  problems: string[];
}

export interface ServiceView {
  kind: 'service';
  /** `namespace/name` of the NodeWorkload whose service it is. */
  key: string;
  /** Absent until the operator has allocated it. */
  clusterIP?: string;
  ports: { name?: string; port: number; protocol: string; targetPort: string; nodePort?: number }[];
  /** Every replica, ready or not: only ready ones receive traffic. */
  endpoints: { assignment: string; node: string; podIP?: string; ready: boolean }[];
  // Whether each agent's rules hold this service is its node card's `proxy`: an agent syncs every
  // service at once, and a copy in each service would make every service new on every sync.
}

export type FloorItem = NodeCard | AssignmentRow | WorkloadView | ServiceView;
export type FloorKind = FloorItem['kind'];

/** An item that went. */
export interface ItemRef {
  kind: FloorKind;
  key: string;
}

/** The whole floor: the first event of every stream (event `snapshot`). */
export interface FloorSnapshot {
  /** The server's clock when it was sent, for the page to offset relative times by. */
  serverTime: string;
  items: FloorItem[];
}

/** What changed since the last event (event `change`): items to draw anew and items to drop. */
export interface FloorChange {
  serverTime: string;
  upsert: FloorItem[];
  remove: ItemRef[];
}

/** The server's paths. */
export const FLOOR_PATHS = {
  page: '/',
  script: '/floor.js',
  style: '/floor.css',
  /** text/event-stream: `snapshot`, then `change` events; a comment line every 15 s keeps it open. */
  events: '/floor/events',
  /** The snapshot as one JSON document, for scripts and curl. */
  snapshot: '/floor/snapshot',
} as const;
