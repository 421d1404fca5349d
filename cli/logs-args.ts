// What `shopfloor logs` is asked, read from its command line, and the choices it makes before
// any request (which replica of a workload, which container, the log server's query), as
// `kubectl logs` makes them. Pure.
import { parseArgs } from 'node:util';
import type { NodeAssignment } from '../api/index.js';
import { UsageError } from './command.js';

export type TargetKind = 'assignment' | 'workload' | 'either';

export interface LogsArgs {
  kind: TargetKind;
  name: string;
  container: string | undefined;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  /** Undefined: every line. */
  tailLines: number | undefined;
  sinceSeconds: number | undefined;
  namespace: string | undefined;
  kubeconfig: string | undefined;
}

const KINDS: Record<string, TargetKind> = {
  na: 'assignment', nodeassignment: 'assignment', nodeassignments: 'assignment', 'nodeassignment.shopfloor.dev': 'assignment', 'nodeassignments.shopfloor.dev': 'assignment',
  nw: 'workload', nodeworkload: 'workload', nodeworkloads: 'workload', 'nodeworkload.shopfloor.dev': 'workload', 'nodeworkloads.shopfloor.dev': 'workload',
};

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration (`90s`, `5m`, `1h30m`) in whole seconds, rounded up as kubectl sends sinceSeconds. */
export function durationSeconds(text: string, flag: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new UsageError(`${flag} "${text}" is not a duration such as 30s, 5m or 1h30m`);
  const seconds = parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2] as string] as number), 0);
  if (seconds <= 0) throw new UsageError(`${flag} "${text}" must be longer than 0`);
  return Math.ceil(seconds);
}

export function parseLogsArgs(argv: string[]): LogsArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name a workload or assignment (nw/NAME, na/NAME or NAME)' : `name one workload or assignment, got ${positionals.join(' ')}`);
  const target = positionals[0] as string;
  const slash = target.indexOf('/');
  let kind: TargetKind = 'either';
  let name = target;
  if (slash >= 0) {
    const k = KINDS[target.slice(0, slash).toLowerCase()];
    if (!k) throw new UsageError(`"${target.slice(0, slash)}" is not a kind shopfloor logs reads; use nw/NAME (a NodeWorkload) or na/NAME (a NodeAssignment)`);
    kind = k;
    name = target.slice(slash + 1);
  }
  if (!NAME.test(name)) throw new UsageError(`"${name}" is not an object name (lowercase letters, digits, "-" and ".")`);
  let tailLines: number | undefined;
  if (v.tail !== undefined) {
    if (!/^-?\d+$/.test(v.tail) || Number(v.tail) < -1) throw new UsageError(`--tail "${v.tail}" must be a number of lines, or -1 for all`);
    tailLines = Number(v.tail) === -1 ? undefined : Number(v.tail);
  }
  if (v.container !== undefined && !NAME.test(v.container)) throw new UsageError(`--container "${v.container}" is not a container name`);
  if (v.namespace !== undefined && !NAME.test(v.namespace)) throw new UsageError(`--namespace "${v.namespace}" is not a namespace name`);
  return {
    kind,
    name,
    container: v.container,
    follow: v.follow ?? false,
    previous: v.previous ?? false,
    timestamps: v.timestamps ?? false,
    tailLines,
    sinceSeconds: v.since === undefined ? undefined : durationSeconds(v.since, '--since'),
    namespace: v.namespace,
    kubeconfig: v.kubeconfig,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      container: { type: 'string', short: 'c' },
      follow: { type: 'boolean', short: 'f' },
      previous: { type: 'boolean', short: 'p' },
      timestamps: { type: 'boolean' },
      tail: { type: 'string' },
      since: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
    },
  });
}

const PHASE_RANK: Record<string, number> = { Running: 0, Unknown: 1, Pending: 2 };

/**
 * The replica whose log a workload's stands for, as kubectl logs picks a pod of a deployment:
 * running before unknown before pending, ready first, then the one restarted most, then the oldest.
 */
export function pickReplica(assignments: readonly NodeAssignment[]): NodeAssignment | undefined {
  const restarts = (a: NodeAssignment): number => (a.status?.containers ?? []).reduce((n, c) => n + c.restartCount, 0);
  const rank = (a: NodeAssignment): number => PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 3;
  return [...assignments].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      Number(b.status?.ready === true) - Number(a.status?.ready === true) ||
      restarts(b) - restarts(a) ||
      String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  )[0];
}

/** The container to read: the one asked for (which must exist), else the first, with a note when there were several. */
export function pickContainer(assignment: NodeAssignment, asked: string | undefined): { container: string; note?: string } {
  const names = assignment.spec.template.containers.map((c) => c.name);
  const where = `NodeAssignment ${assignment.metadata.namespace}/${assignment.metadata.name}`;
  if (asked !== undefined) {
    if (!names.includes(asked)) throw new Error(`container "${asked}" is not in ${where}; its containers: ${names.join(', ')}`);
    return { container: asked };
  }
  const first = names[0] as string;
  return names.length > 1 ? { container: first, note: `Defaulted container "${first}" out of: ${names.join(', ')}` } : { container: first };
}

/** The log server's path and query for these arguments. */
export function logRequestPath(namespace: string, assignment: string, container: string, a: Pick<LogsArgs, 'follow' | 'previous' | 'timestamps' | 'tailLines' | 'sinceSeconds'>): string {
  const q = new URLSearchParams();
  if (a.follow) q.set('follow', 'true');
  if (a.previous) q.set('previous', 'true');
  if (a.timestamps) q.set('timestamps', 'true');
  if (a.tailLines !== undefined) q.set('tailLines', String(a.tailLines));
  if (a.sinceSeconds !== undefined) q.set('sinceSeconds', String(a.sinceSeconds));
  const query = q.toString();
  return `/containerLogs/${[namespace, assignment, container].map(encodeURIComponent).join('/')}${query ? `?${query}` : ''}`;
}
