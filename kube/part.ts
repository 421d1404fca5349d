// The one shape of every long-running piece of a Shopfloor binary (the agent's runtime, pods,
// node and proxy; the operator's caches, node monitor and leader-elected controllers): a binary
// only composes parts, so starting, health, failure and shutdown read the same everywhere.

/** A long-running piece of a binary. */
export interface Part {
  /** Names the part in logs and in /readyz. */
  readonly name: string;
  /**
   * Starts the part's work and resolves once it is running (not necessarily ready). Rejects,
   * leaving nothing running, when it cannot start; the error says what to do. A part whose work
   * can end while the process runs (a lease lost, a loop that failed) calls `fail` then: the
   * binary ends with that error, the way controller-runtime's manager returns when a runnable
   * fails, rather than run on without it.
   */
  start(fail: (err: Error) => void): Promise<void>;
  /** `true` once the part does its job; otherwise a sentence saying what it waits for. */
  ready(): true | string;
  /** Stops the part's work and resolves when everything it started has ended. Idempotent. */
  stop(): Promise<void>;
}

export interface StartedParts {
  /** Stops every started part in reverse order; runs every stop even when one fails. */
  stop(): Promise<void>;
  /** Resolves with the first failure of a running part (its message names the part); pending while all run. */
  readonly failed: Promise<Error>;
}

/**
 * Starts `parts` in order; if one fails to start, stops those already started (in reverse) and
 * rethrows.
 */
export async function startParts(parts: readonly Part[], onStopError: (part: Part, err: unknown) => void): Promise<StartedParts> {
  const started: Part[] = [];
  let reportFailure: (err: Error) => void = () => {};
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));
  const stop = async (): Promise<void> => {
    for (const part of [...started].reverse()) {
      try {
        await part.stop();
      } catch (err) {
        onStopError(part, err);
      }
    }
  };
  for (const part of parts) {
    const fail = (err: Error): void => reportFailure(new Error(`${part.name}: ${err.message}`, { cause: err }));
    try {
      await part.start(fail);
    } catch (err) {
      await stop();
      throw err;
    }
    started.push(part);
  }
  return { stop, failed };
}

/** What a cache part needs of an informer. */
export interface StartableCache {
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
}

/** The part that runs a binary's informers, keyed by the resource each caches; ready once all have synced. */
export function cachesPart(caches: Readonly<Record<string, StartableCache>>): Part {
  const all = Object.entries(caches);
  return {
    name: 'caches',
    start: async () => {
      for (const [, cache] of all) cache.start();
    },
    ready: () => {
      const waiting = all.filter(([, cache]) => !cache.hasSynced()).map(([resource]) => resource);
      return waiting.length === 0 || `the ${waiting.join(', ')} ${waiting.length === 1 ? 'cache has' : 'caches have'} not synced yet`;
    },
    stop: async () => {
      await Promise.all(all.map(([, cache]) => cache.stop()));
    },
  };
}
