// A closed loop of bounded concurrency, for benchmarks that send many requests at once.

/**
 * Runs task(0..total-1) with `concurrency` in flight: each slot takes the next index when its
 * task ends. One failure ends the run: no slot starts another task, and the failure is thrown.
 */
export async function pool(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(total, concurrency) }, async () => {
      while (next < total) {
        const i = next++;
        try {
          await task(i);
        } catch (err) {
          next = total;
          throw err;
        }
      }
    }),
  );
}
