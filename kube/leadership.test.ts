import { describe, expect, it } from '@jest/globals';
import { Leadership, type LeaderRunnable } from './leadership.js';

/** A runnable that records its life in `log`; `breakNow` makes its run reject. */
function runnable(name: string, log: string[]): LeaderRunnable & { breakNow(err: Error): void } {
  let breakNow: (err: Error) => void = () => {};
  return {
    name,
    run: (signal) =>
      new Promise<void>((resolve, reject) => {
        log.push(`run ${name}`);
        breakNow = reject;
        signal.addEventListener('abort', () => (log.push(`stopped ${name}`), resolve()), { once: true });
      }),
    breakNow: (err) => breakNow(err),
  };
}

describe('Leadership without leader election', () => {
  it('leads at once, runs every runnable, and stops them', async () => {
    const log: string[] = [];
    const part = new Leadership({ elector: undefined, runnables: [runnable('a', log), runnable('b', log)] });
    await part.start(() => {});
    expect(part.isLeader()).toBe(true);
    expect(log).toEqual(['run a', 'run b']);
    await part.stop();
    expect(part.isLeader()).toBe(false);
    expect(log).toEqual(['run a', 'run b', 'stopped a', 'stopped b']);
  });

  it('fails when a runnable fails, naming it', async () => {
    const log: string[] = [];
    const broken = runnable('nodeworkload', log);
    const part = new Leadership({ elector: undefined, runnables: [broken] });
    const failures: Error[] = [];
    await part.start((err) => failures.push(err));
    broken.breakNow(new Error('cannot list NodeWorkloads'));
    await part.stop();
    expect(failures.map((e) => e.message)).toEqual(['nodeworkload failed: cannot list NodeWorkloads']);
  });
});
