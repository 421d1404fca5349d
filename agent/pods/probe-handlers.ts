// The three probe handlers (httpGet, tcpSocket, exec) as kubelet runs them: each ends within its
// timeout with a success or a failure and a short reason. Only a probe *error* (the runtime could
// not run the exec at all) throws; the worker discards errors, as kubelet does.
import { status as grpcStatus } from '@grpc/grpc-js';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ContainerPort, Probe } from '../../api/template.js';
import { systemClock, type Clock } from '../../kube/clock.js';
import { CriError } from '../cri/client.js';
import type { ExecSyncResponse } from '../cri/types.js';

export interface ProbeOutcome {
  result: 'success' | 'failure';
  /** Why, in a line (a failure's reason, or what a successful probe printed). */
  output: string;
}

/** CRI ExecSync of one container (the CriClient's `execSync`). */
export type ExecSync = (containerId: string, cmd: string[], timeoutSeconds: number) => Promise<ExecSyncResponse>;

/** Where a probe goes: the pod's IP, the container to exec into, and its ports for named ports. */
export interface ProbeTarget {
  podIP: string;
  containerId: string;
  ports?: readonly ContainerPort[] | undefined;
}

export type HttpGetAction = NonNullable<Probe['httpGet']>;
export type TcpSocketAction = NonNullable<Probe['tcpSocket']>;

/** kubelet reads at most this much of a response body or of a command's output. */
export const MAX_OUTPUT_BYTES = 10 * 1024;
export const PROBE_USER_AGENT = 'shopfloor-probe/1.0';
/**
 * The runtime starts its exec clock only once the process is set up (tens of ms with runc), and
 * reports a timeout itself; this much extra keeps a command that just makes it from being cut off
 * here first, while a runtime that never answers still ends the probe.
 */
const EXEC_GRACE_MS = 1_000;

const success = (output: string): ProbeOutcome => ({ result: 'success', output });
const failure = (output: string): ProbeOutcome => ({ result: 'failure', output });

/** Runs the one handler `probe` sets against `target`. */
export function runProbe(probe: Probe, target: ProbeTarget, deps: { exec: ExecSync; clock?: Clock }): Promise<ProbeOutcome> {
  const clock = deps.clock ?? systemClock;
  if (probe.exec) return execProbe(deps.exec, target.containerId, probe.exec.command, probe.timeoutSeconds, clock);
  if (probe.httpGet) return httpGetProbe(probe.httpGet, target, probe.timeoutSeconds, clock);
  if (probe.tcpSocket) return tcpSocketProbe(probe.tcpSocket, target, probe.timeoutSeconds, clock);
  return Promise.resolve(failure('the probe sets none of exec, httpGet, tcpSocket'));
}

/** A port number, or a container port's name resolved against `ports`; a string is the reason it cannot be. */
export function resolveProbePort(port: number | string, ports: readonly ContainerPort[] | undefined): number | string {
  if (typeof port === 'number') return port;
  const found = ports?.find((p) => p.name === port);
  if (found) return found.containerPort;
  const names = (ports ?? []).map((p) => p.name).filter((n) => n !== undefined);
  return `port "${port}" is not a named port of this container (${names.length ? `its named ports: ${names.join(', ')}` : 'it names no ports'}); name one of its ports or give a number`;
}

export function httpGetProbe(action: HttpGetAction, target: ProbeTarget, timeoutSeconds: number, clock: Clock = systemClock): Promise<ProbeOutcome> {
  const port = resolveProbePort(action.port, target.ports);
  if (typeof port === 'string') return Promise.resolve(failure(port));
  const host = action.host || target.podIP;
  if (!host) return Promise.resolve(failure('no host to probe: the pod has no IP yet and the probe names no host'));
  const path = action.path.startsWith('/') ? action.path : `/${action.path}`;
  const scheme = action.scheme === 'HTTPS' ? 'https' : 'http';
  const url = `${scheme}://${hostPort(host, port)}${path}`;

  return new Promise((resolve) => {
    let request: http.ClientRequest | undefined;
    let settled = false;
    // Set once the status line is in: from then on the verdict is known and the body is extra.
    let verdict: (() => ProbeOutcome) | undefined;
    const settle = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      cancelTimer();
      request?.destroy();
      resolve(outcome);
    };
    const cancelTimer = clock.setTimer(
      () => settle(verdict ? verdict() : failure(`Get "${url}": no response within ${timeoutSeconds}s (timeout)`)),
      timeoutSeconds * 1000,
    );
    const options: https.RequestOptions = { host, port, path, method: 'GET', headers: requestHeaders(action.httpHeaders), agent: false };
    // Probes check liveness, not identity: kubelet skips certificate verification too.
    if (scheme === 'https') options.rejectUnauthorized = false;
    try {
      request = (scheme === 'https' ? https : http).request(options);
    } catch (err) {
      settle(failure(`Get "${url}": ${(err as Error).message}`));
      return;
    }
    request.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const body: Buffer[] = [];
      let length = 0;
      verdict = () => {
        const text = Buffer.concat(body).subarray(0, MAX_OUTPUT_BYTES).toString();
        // 3xx counts as success without following it, as kubelet does for a redirect off the host.
        return status >= 200 && status < 400 ? success(text) : failure(`HTTP probe failed with statuscode: ${status}`);
      };
      res.on('data', (chunk: Buffer) => {
        body.push(chunk);
        length += chunk.length;
        if (length >= MAX_OUTPUT_BYTES && verdict) settle(verdict());
      });
      res.on('end', () => verdict && settle(verdict()));
      res.on('error', () => verdict && settle(verdict()));
    });
    request.on('error', (err) => settle(failure(`Get "${url}": ${socketErrorText(err, hostPort(host, port))}`)));
    request.end();
  });
}

export function tcpSocketProbe(action: TcpSocketAction, target: ProbeTarget, timeoutSeconds: number, clock: Clock = systemClock): Promise<ProbeOutcome> {
  const port = resolveProbePort(action.port, target.ports);
  if (typeof port === 'string') return Promise.resolve(failure(port));
  const host = action.host || target.podIP;
  if (!host) return Promise.resolve(failure('no host to probe: the pod has no IP yet and the probe names no host'));
  const address = hostPort(host, port);

  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const settle = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      cancelTimer();
      socket.destroy();
      resolve(outcome);
    };
    const cancelTimer = clock.setTimer(() => settle(failure(`dial tcp ${address}: i/o timeout`)), timeoutSeconds * 1000);
    socket.on('connect', () => settle(success('')));
    socket.on('error', (err) => settle(failure(socketErrorText(err, address))));
  });
}

export function execProbe(exec: ExecSync, containerId: string, command: string[], timeoutSeconds: number, clock: Clock = systemClock): Promise<ProbeOutcome> {
  const timedOut = failure(`command timed out after ${timeoutSeconds}s: ${command.join(' ')}`);
  return new Promise((resolve, reject) => {
    let settled = false;
    const cancelTimer = clock.setTimer(() => {
      settled = true;
      resolve(timedOut);
    }, timeoutSeconds * 1000 + EXEC_GRACE_MS);
    exec(containerId, command, timeoutSeconds).then(
      (r) => {
        if (settled) return;
        settled = true;
        cancelTimer();
        if (r.exitCode === 0) resolve(success(clip(r.stdout)));
        else resolve(failure(`command exited with ${r.exitCode}: ${clip(r.stderr.length ? r.stderr : r.stdout)}`));
      },
      (err: unknown) => {
        // Once the probe has timed out here, a late answer of the runtime changes nothing.
        if (settled) return;
        settled = true;
        cancelTimer();
        if (err instanceof CriError && err.code === grpcStatus.DEADLINE_EXCEEDED) resolve(timedOut);
        else reject(err);
      },
    );
  });
}

function clip(output: Buffer): string {
  return output.subarray(0, MAX_OUTPUT_BYTES).toString().trim();
}

/** Request headers: ours first, replaced by the probe's (a name given twice sends both values). */
function requestHeaders(custom: HttpGetAction['httpHeaders']): http.OutgoingHttpHeaders {
  const headers: Record<string, string | string[]> = { 'user-agent': PROBE_USER_AGENT, accept: '*/*' };
  const given = new Map<string, string[]>();
  for (const h of custom ?? []) {
    const name = h.name.toLowerCase();
    given.set(name, [...(given.get(name) ?? []), h.value]);
  }
  for (const [name, values] of given) headers[name] = values.length === 1 ? (values[0] as string) : values;
  return headers;
}

function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A socket error worded as kubelet reports it (Go's net errors), so the familiar messages read the same. */
function socketErrorText(err: NodeJS.ErrnoException, address: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${address}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${address}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${address}: connect: network is unreachable`;
    case 'ETIMEDOUT':
      return `dial tcp ${address}: i/o timeout`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp ${address}: lookup ${address.slice(0, address.lastIndexOf(':'))}: no such host`;
    case 'ECONNRESET':
      return `read tcp ${address}: connection reset by peer`;
    default:
      return err.message;
  }
}
