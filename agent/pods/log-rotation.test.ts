import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FakeClock } from '../../kube/fake-clock.js';
import { eventually } from '../../test/harness/eventually.js';
import { ContainerLogRotation, planCleanup, rotatedName, type ContainerLog } from './log-rotation.js';

// 2024-03-05 06:07:08 UTC
const T0 = Date.UTC(2024, 2, 5, 6, 7, 8);

describe('rotatedName', () => {
  it('appends kubelet\'s timestamp format, in UTC', () => {
    expect(rotatedName('/var/log/pods/ns_web_uid/app/0.log', T0)).toBe('/var/log/pods/ns_web_uid/app/0.log.20240305-060708');
  });
});

describe('planCleanup', () => {
  const policy = { maxSizeBytes: 1, maxFiles: 4, compress: true };
  it('keeps maxFiles - 1 rotated files, compressing all but the newest', () => {
    const files = ['0.log.20240101-000004', '0.log.20240101-000001.gz', '0.log.20240101-000003', '0.log.20240101-000002.gz', '0.log.20240101-000000.gz'];
    expect(planCleanup(files, policy)).toEqual({ remove: ['0.log.20240101-000000.gz', '0.log.20240101-000001.gz'], compress: ['0.log.20240101-000003'] });
    expect(planCleanup(files, { ...policy, compress: false }).compress).toEqual([]);
    expect(planCleanup(files, { ...policy, maxFiles: 2 }).remove).toHaveLength(4);
  });

  it('removes what an interrupted compression left behind', () => {
    const files = ['0.log.1', '0.log.1.gz', '0.log.2.gz.tmp', '0.log.2', '0.log.3'];
    expect(planCleanup(files, policy)).toEqual({ remove: ['0.log.1', '0.log.2.gz.tmp'], compress: ['0.log.2'] });
  });
});

describe('ContainerLogRotation', () => {
  let dir: string;
  let logPath: string;
  let reopened: string[];
  let reopenFails: boolean;

  /** A fake of CRI ReopenContainerLog: like the runtime, it opens the path again for appending, creating it. */
  const fakeReopen = async (containerId: string): Promise<void> => {
    reopened.push(containerId);
    if (reopenFails) throw new Error('CRI ReopenContainerLog failed: container is not running');
    appendFileSync(logPath, '');
  };
  const log: ContainerLog[] = [];
  const files = () => readdirSync(join(dir, 'app')).sort();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shopfloor-logs-'));
    mkdirSync(join(dir, 'app'));
    logPath = join(dir, 'app', '0.log');
    log.splice(0, log.length, { containerId: 'c1', logPath });
    reopened = [];
    reopenFails = false;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const rotation = (clock: FakeClock, over: Partial<ConstructorParameters<typeof ContainerLogRotation>[0]> = {}) =>
    new ContainerLogRotation({ containers: () => log, reopen: fakeReopen, clock, maxSizeBytes: 100, maxFiles: 3, ...over });

  it('leaves a log below the limit alone', async () => {
    writeFileSync(logPath, 'x'.repeat(99));
    expect(await rotation(new FakeClock(T0)).rotate(log)).toEqual({ rotated: [], failures: [] });
    expect(files()).toEqual(['0.log']);
    expect(reopened).toEqual([]);
  });

  it('rotates a full log, reopens it, and keeps maxFiles files with only the newest rotated one plain', async () => {
    const clock = new FakeClock(T0);
    const r = rotation(clock);
    for (let i = 0; i < 4; i++) {
      writeFileSync(logPath, `generation ${i}\n`.padEnd(100, '.'));
      expect(await r.rotate(log)).toEqual({ rotated: ['c1'], failures: [] });
      expect(readFileSync(logPath, 'utf8')).toBe('');
      await clock.advance(10_000);
    }
    expect(reopened).toEqual(['c1', 'c1', 'c1', 'c1']);
    expect(files()).toEqual(['0.log', '0.log.20240305-060728.gz', '0.log.20240305-060738']);
    expect(gunzipSync(readFileSync(join(dir, 'app', '0.log.20240305-060728.gz'))).toString()).toMatch(/^generation 2\n/);
    expect(readFileSync(join(dir, 'app', '0.log.20240305-060738'), 'utf8')).toMatch(/^generation 3\n/);
  });

  it('moves the log back when the runtime cannot reopen it, and rotates it on the next pass', async () => {
    const clock = new FakeClock(T0);
    const r = rotation(clock);
    writeFileSync(logPath, 'y'.repeat(150));
    reopenFails = true;
    const failed = await r.rotate(log);
    expect(failed.rotated).toEqual([]);
    expect(failed.failures[0]?.error).toContain('reopening the log of container c1 after renaming');
    expect(files()).toEqual(['0.log']);
    expect(readFileSync(logPath, 'utf8')).toHaveLength(150);

    reopenFails = false;
    await clock.advance(10_000);
    expect((await r.rotate(log)).rotated).toEqual(['c1']);
    expect(files()).toEqual(['0.log', '0.log.20240305-060718']);
  });

  it('has the runtime recreate a log file that is gone', async () => {
    expect(await rotation(new FakeClock(T0)).rotate(log)).toEqual({ rotated: [], failures: [] });
    expect(reopened).toEqual(['c1']);
    expect(existsSync(logPath)).toBe(true);
  });

  it('waits for the next second rather than overwrite a file rotated within this one', async () => {
    const r = rotation(new FakeClock(T0));
    writeFileSync(logPath, 'z'.repeat(100));
    await r.rotate(log);
    writeFileSync(logPath, 'w'.repeat(100));
    expect(await r.rotate(log)).toEqual({ rotated: [], failures: [] });
    expect(readFileSync(logPath, 'utf8')).toHaveLength(100);
    expect(readFileSync(`${logPath}.20240305-060708`, 'utf8')).toBe('z'.repeat(100));
  });

  it('keeps going past a container that fails', async () => {
    writeFileSync(logPath, 'v'.repeat(100));
    const broken = { containerId: 'c0', logPath: join(dir, 'missing-dir', '0.log') };
    const pass = await rotation(new FakeClock(T0)).rotate([broken, ...log]);
    expect(pass.rotated).toEqual(['c1']);
    expect(pass.failures.map((f) => f.containerId)).toEqual(['c0']);
  });

  it('checks at start and every interval until stopped', async () => {
    const clock = new FakeClock(T0);
    let listed = 0;
    const r = rotation(clock, {
      intervalMs: 10_000,
      containers: () => {
        listed++;
        return log;
      },
    });
    writeFileSync(logPath, 'u'.repeat(100));
    await r.start();
    expect(r.ready()).toBe(true);
    await clock.advance(0);
    await eventually('the first pass rotates the log', () => files().length === 2);
    await eventually('the next pass is scheduled', () => clock.pendingTimers() === 1);
    await clock.advance(10_000);
    expect(listed).toBe(2);
    await r.stop();
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(60_000);
    expect(listed).toBe(2);
  });

  it('refuses a policy that cannot work', () => {
    const clock = new FakeClock(T0);
    expect(() => rotation(clock, { maxFiles: 1 })).toThrow('maxFiles is 1; keep at least 2 files');
    expect(() => rotation(clock, { maxSizeBytes: 0 })).toThrow('maxSizeBytes is 0');
  });
});
