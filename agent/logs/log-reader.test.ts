import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../kube/clock.js';
import { eventually } from '../../test/harness/eventually.js';
import { readLog, type ReadLogOptions } from './log-reader.js';

// Real files on disk, appended and rotated as the runtime and the log rotation do.
describe('readLog', () => {
  let dir: string;
  let path: string;
  const line = (i: number, stream = 'stdout', tag = 'F'): string => `2026-03-01T10:00:${String(i).padStart(2, '0')}.000000001Z ${stream} ${tag} line ${i}\n`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-logs-'));
    mkdirSync(join(dir, 'app'));
    path = join(dir, 'app', '0.log');
  });
  // A follow a failed test left open would keep jest from exiting.
  const aborts: AbortController[] = [];
  afterEach(() => {
    for (const a of aborts.splice(0)) a.abort();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (o: Partial<ReadLogOptions> = {}): { out: () => string; done: Promise<void>; abort: AbortController } => {
    const chunks: Buffer[] = [];
    const abort = new AbortController();
    aborts.push(abort);
    const done = readLog({
      path,
      follow: false,
      running: async () => true,
      write: async (c) => void chunks.push(c),
      signal: abort.signal,
      clock: systemClock,
      sinceMs: undefined,
      tailLines: undefined,
      limitBytes: undefined,
      timestamps: false,
      stateCheckPeriodMs: 100,
      ...o,
    });
    return { out: () => Buffer.concat(chunks).toString(), done, abort };
  };

  it('reads the whole file once, decoded, and nothing from a file that is not there', async () => {
    writeFileSync(path, line(1) + line(2, 'stderr', 'P') + line(3, 'stderr'));
    const r = start();
    await r.done;
    expect(r.out()).toBe('line 1\nline 2line 3\n');
    rmSync(path);
    const none = start();
    await none.done;
    expect(none.out()).toBe('');
  });

  it('follows appended lines after the tail, into the new file after a rotation, until the container stops', async () => {
    writeFileSync(path, line(1) + line(2) + line(3));
    let alive = true;
    const r = start({ follow: true, tailLines: 1, running: async () => alive });
    await eventually('the tail', () => r.out() === 'line 3\n');
    appendFileSync(path, line(4));
    await eventually('an appended line', () => r.out() === 'line 3\nline 4\n');
    // The rotation renames the file and the runtime reopens it at the same path.
    appendFileSync(path, line(5));
    renameSync(path, `${path}.20260301-100005`);
    writeFileSync(path, line(6));
    await eventually('lines on both sides of the rotation', () => r.out() === 'line 3\nline 4\nline 5\nline 6\n');
    alive = false;
    appendFileSync(path, line(7));
    await r.done;
    expect(r.out()).toBe('line 3\nline 4\nline 5\nline 6\nline 7\n');
  });

  it('ends a follow when the client goes or limitBytes is sent', async () => {
    writeFileSync(path, line(1));
    const r = start({ follow: true });
    await eventually('the first line', () => r.out() === 'line 1\n');
    r.abort.abort();
    await r.done;
    appendFileSync(path, line(2));
    const limited = start({ follow: true, limitBytes: 9 });
    await eventually('nine bytes', () => limited.out() === 'line 1\nli');
    await limited.done;
  });

  it('stamps lines with the runtime\'s timestamps and keeps those since a time', async () => {
    writeFileSync(path, line(1) + line(2));
    const r = start({ timestamps: true, sinceMs: Date.parse('2026-03-01T10:00:02Z') });
    await r.done;
    expect(r.out()).toBe('2026-03-01T10:00:02.000000001Z line 2\n');
  });
});
