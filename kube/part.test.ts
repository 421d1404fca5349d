import { describe, expect, it } from '@jest/globals';
import { cachesPart, startParts, type Part } from './part.js';

/** A part that records what happens to it in `log`, and can be told to fail while running. */
function recordingPart(name: string, log: string[], o: { failStart?: boolean } = {}): Part & { failNow(err: Error): void } {
  let fail: (err: Error) => void = () => {};
  return {
    name,
    start: async (f) => {
      log.push(`start ${name}`);
      if (o.failStart) throw new Error(`${name} cannot start`);
      fail = f;
    },
    ready: () => true,
    stop: async () => {
      log.push(`stop ${name}`);
    },
    failNow: (err) => fail(err),
  };
}

describe('startParts', () => {
  it('starts in order and stops in reverse', async () => {
    const log: string[] = [];
    const started = await startParts([recordingPart('a', log), recordingPart('b', log), recordingPart('c', log)], () => {});
    await started.stop();
    expect(log).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('stops what started when a later part cannot start, and rethrows', async () => {
    const log: string[] = [];
    await expect(startParts([recordingPart('a', log), recordingPart('b', log, { failStart: true }), recordingPart('c', log)], () => {})).rejects.toThrow('b cannot start');
    expect(log).toEqual(['start a', 'start b', 'stop a']);
  });

  it('runs every stop when one fails, and reports it', async () => {
    const log: string[] = [];
    const broken: Part = { ...recordingPart('b', log), stop: () => Promise.reject(new Error('stuck')) };
    const errors: string[] = [];
    const started = await startParts([recordingPart('a', log), broken], (part, err) => errors.push(`${part.name}: ${(err as Error).message}`));
    await started.stop();
    expect(log).toEqual(['start a', 'start b', 'stop a']);
    expect(errors).toEqual(['b: stuck']);
  });

  it('resolves `failed` with the first failure of a running part, named', async () => {
    const log: string[] = [];
    const a = recordingPart('a', log);
    const b = recordingPart('b', log);
    const started = await startParts([a, b], () => {});
    b.failNow(new Error('lost the lease'));
    a.failNow(new Error('later'));
    const err = await started.failed;
    expect(err.message).toBe('b: lost the lease');
    expect((err.cause as Error).message).toBe('lost the lease');
    await started.stop();
  });
});

describe('cachesPart', () => {
  it('starts and stops every cache and names those not synced yet', async () => {
    const synced = new Map([
      ['nodeworkloads', false],
      ['nodeassignments', false],
    ]);
    const log: string[] = [];
    const cache = (resource: string) => ({
      start: () => log.push(`start ${resource}`),
      stop: async () => {
        log.push(`stop ${resource}`);
      },
      hasSynced: () => synced.get(resource) === true,
    });
    const part = cachesPart({ nodeworkloads: cache('nodeworkloads'), nodeassignments: cache('nodeassignments') });
    await part.start(() => {});
    expect(part.ready()).toBe('the nodeworkloads, nodeassignments caches have not synced yet');
    synced.set('nodeworkloads', true);
    expect(part.ready()).toBe('the nodeassignments cache has not synced yet');
    synced.set('nodeassignments', true);
    expect(part.ready()).toBe(true);
    await part.stop();
    expect(log).toEqual(['start nodeworkloads', 'start nodeassignments', 'stop nodeworkloads', 'stop nodeassignments']);
  });
});
