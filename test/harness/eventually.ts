/**
 * Polls `check` until it returns a value other than undefined or false, and returns that value.
 * A check that throws counts as not yet; after `timeoutMs` it fails naming `what` and the last
 * error. The one way a test waits for a condition: never a fixed sleep followed by an assert.
 * Where a test means that something does not happen, it waits for a later event that proves the
 * system has got past the point (a marker object, a renewal, an observedGeneration) instead.
 */
export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, pollMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Fails a check of `eventually` with what was seen, which the timeout error then shows: `done || notYet(seen)`. */
export function notYet(seen: string): never {
  throw new Error(`last seen: ${seen}`);
}
