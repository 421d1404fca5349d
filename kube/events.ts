import type { Counter, Registry } from 'prom-client';
import type { KubeClient } from './client.js';
import { systemClock, type Clock } from './clock.js';
import { isNotFound } from './errors.js';
import { EventCorrelator, type CorrelatorOptions } from './event-correlator.js';
import { silentLogger, type Logger } from './logger.js';
import { eventsDroppedMetric } from './metrics.js';
import { EVENTS } from './resource.js';
import type { KubeObject } from './types.js';
import { shorten } from './shorten.js';

export type EventType = 'Normal' | 'Warning';

/** A core/v1 Event as written to the API server. */
export interface CoreEvent extends KubeObject {
  involvedObject: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
}

export interface EventRecorderOptions extends CorrelatorOptions {
  client: KubeClient;
  /**
   * Who reports: the binary, e.g. `shopfloor-operator`. Its metric carries the binary's prefix
   * too (`shopfloor_operator_events_dropped_total`).
   */
  component: string;
  /** Which replica reports (host or pod name). */
  instance?: string;
  /** Namespace for events about cluster-scoped objects. Default `default`. */
  clusterScopedNamespace?: string;
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Records core/v1 Events about objects, as `kubectl describe` shows them. Repeats of the same
 * event bump `count`/`lastTimestamp` of the existing Event; each object's events are
 * rate-limited (see EventCorrelator). Writing happens in the background in order; failures are
 * logged, never thrown, because an event must not fail a reconcile. `flush` waits for the writes.
 */
/**
 * An Event's name: the object's name and the time in nanoseconds as hex, the sub-millisecond part
 * random so that two events about one object in the same millisecond do not collide. BigInt:
 * nanoseconds since 1970 are beyond a double's 53 bits, which would round the random part away.
 */
export function eventName(objectName: string, nowMs: number, subMillisecondNanos: number): string {
  return `${objectName}.${(BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(subMillisecondNanos)).toString(16)}`;
}

export class EventRecorder {
  private readonly correlator: EventCorrelator;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly dropped: Counter<'component'> | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: EventRecorderOptions) {
    this.clock = options.clock ?? systemClock;
    this.correlator = new EventCorrelator(this.clock, options);
    this.logger = (options.logger ?? silentLogger()).child({ component: options.component });
    this.dropped = options.registry ? eventsDroppedMetric(options.registry, options.component.replaceAll('-', '_')) : undefined;
  }

  /** Records that `reason` happened to `regarding`. Reasons are CamelCase; messages are for people. */
  event(regarding: KubeObject, type: EventType, reason: string, message: string): void {
    const meta = regarding.metadata ?? {};
    const objectKey = [regarding.kind, meta.namespace, meta.name, meta.uid].join('/');
    const decision = this.correlator.observe(objectKey, [objectKey, type, reason, message].join('\u0000'));
    if (decision.action === 'drop') {
      this.dropped?.inc({ component: this.options.component });
      this.logger.debug({ namespace: meta.namespace, name: meta.name, reason }, 'event dropped by rate limit');
      return;
    }
    const now = this.clock.now();
    this.chain = this.chain.then(async () => {
      try {
        const name = decision.action === 'patch' ? this.correlator.nameOf(decision.key) : undefined;
        if (decision.action === 'patch' && name) {
          try {
            await this.options.client.patch(EVENTS, name, { count: decision.count, lastTimestamp: rfc3339(now) }, { namespace: this.namespaceOf(regarding) });
            return;
          } catch (err) {
            if (!isNotFound(err)) throw err;
            // The event expired on the server (events have a TTL): start a new one.
          }
        }
        const count = decision.action === 'patch' ? decision.count : 1;
        const created = await this.options.client.create<CoreEvent>(EVENTS, this.build(regarding, type, reason, message, now, count));
        this.correlator.recorded(decision.key, created.metadata?.name ?? '');
      } catch (err) {
        this.logger.warn({ err, namespace: meta.namespace, name: meta.name, reason }, 'could not write event');
      }
    });
  }

  /** Resolves when every event recorded so far has been written (or failed). */
  flush(): Promise<void> {
    return this.chain;
  }

  private namespaceOf(obj: KubeObject): string {
    return obj.metadata?.namespace || (this.options.clusterScopedNamespace ?? 'default');
  }

  private build(regarding: KubeObject, type: EventType, reason: string, message: string, now: number, count: number): CoreEvent {
    const meta = regarding.metadata ?? {};
    const namespace = this.namespaceOf(regarding);
    const instance = this.options.instance ?? '';
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(meta.name ?? 'object', now, Math.floor(Math.random() * 1e6)), namespace },
      involvedObject: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      reason,
      message: shorten(message, 1024),
      type,
      count,
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      source: { component: this.options.component, ...(instance ? { host: instance } : {}) },
      reportingComponent: this.options.component,
      reportingInstance: instance,
    };
  }
}
