// The one shape of every long-running piece of the agent (runtime, pods, node, proxy): the agent
// process only composes parts, so starting, health and shutdown read the same everywhere.

/** A long-running piece of the agent. */
export interface Part {
  /** Names the part in logs and in /readyz. */
  readonly name: string;
  /**
   * Starts the part's work and resolves once it is running (not necessarily ready). Rejects,
   * leaving nothing running, when it cannot start; the error says what to do.
   */
  start(): Promise<void>;
  /** `true` once the part does its job; otherwise a sentence saying what it waits for. */
  ready(): true | string;
  /** Stops the part's work and resolves when everything it started has ended. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `parts` in order; if one fails, stops those already started (in reverse) and rethrows.
 * Returns the stop of them all, in reverse order, which runs every stop even when one fails.
 */
export async function startParts(parts: readonly Part[], onStopError: (part: Part, err: unknown) => void): Promise<() => Promise<void>> {
  const started: Part[] = [];
  const stopAll = async (): Promise<void> => {
    for (const part of [...started].reverse()) {
      try {
        await part.stop();
      } catch (err) {
        onStopError(part, err);
      }
    }
  };
  for (const part of parts) {
    try {
      await part.start();
    } catch (err) {
      await stopAll();
      throw err;
    }
    started.push(part);
  }
  return stopAll;
}
