import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked, spawnRunner } from '../exec.js';
import { tarArchive, type TarEntry } from './tar-archive.js';

const entries: TarEntry[] = [
  { type: 'dir', path: 'bin', mode: 0o755 },
  { type: 'file', path: 'bin/tool', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
  { type: 'symlink', path: 'bin/sh', target: 'tool' },
  { type: 'dir', path: 'tmp/', mode: 0o1777 },
  { type: 'file', path: 'empty', mode: 0o644, data: Buffer.alloc(0) },
];

describe('tarArchive', () => {
  it('pads every member to 512-byte blocks and ends with two zero blocks', () => {
    const tar = tarArchive(entries);
    // 5 headers + one data block for bin/tool + 2 end blocks
    expect(tar.length).toBe(512 * 8);
    expect(tar.subarray(tar.length - 1024).every((b) => b === 0)).toBe(true);
    expect(tar.subarray(257, 265).toString('latin1')).toBe('ustar\u000000');
  });

  it('gives the same bytes for the same entries', () => {
    expect(tarArchive(entries).equals(tarArchive(entries))).toBe(true);
  });

  it('is read back by GNU tar with the modes, owners, times and link targets it was given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-tar-'));
    try {
      const file = join(dir, 'a.tar');
      writeFileSync(file, tarArchive(entries));
      const run = spawnRunner();
      const list = await runChecked(run, 'tar', ['-tvf', file, '--numeric-owner', '--utc']);
      expect(list.stdout.trim().split('\n')).toEqual([
        'drwxr-xr-x 0/0               0 1970-01-01 00:00 bin/',
        '-rwxr-xr-x 0/0              18 1970-01-01 00:00 bin/tool',
        'lrwxrwxrwx 0/0               0 1970-01-01 00:00 bin/sh -> tool',
        'drwxrwxrwt 0/0               0 1970-01-01 00:00 tmp/',
        '-rw-r--r-- 0/0               0 1970-01-01 00:00 empty',
      ]);
      const out = join(dir, 'x');
      await runChecked(run, 'mkdir', [out]);
      await runChecked(run, 'tar', ['-xf', file, '-C', out]);
      expect(readFileSync(join(out, 'bin/tool'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
      expect(readlinkSync(join(out, 'bin/sh'))).toBe('tool');
      expect(statSync(join(out, 'bin/tool')).mode & 0o777).toBe(0o755);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a name longer than the ustar name field, naming it', () => {
    const long = 'd/'.repeat(60);
    expect(() => tarArchive([{ type: 'dir', path: long, mode: 0o755 }])).toThrow(/tar entry name "d\/d\/.*" must be 1 to 100 bytes long, it is 120/);
  });
});
