// preloadImages against the real containerd: every *.tar of the directory (symlinks too) is
// imported; a broken archive or a missing directory is reported and counted, not thrown.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnRunner } from '../../agent/exec.js';
import { preloadImages } from '../../agent/runtime/image-preload.js';
import { createLogger } from '../../kube/logger.js';
import { BUSYBOX_IMAGE, startTestContainerd, type TestContainerd } from '../harness/containerd.js';

let t: TestContainerd;
let dir: string;
beforeAll(async () => {
  t = await startTestContainerd({ preload: false });
  dir = mkdtempSync(join(tmpdir(), 'sf-preload-'));
});
afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('preloadImages', () => {
  it('imports every archive, logs and counts the broken one, and skips files that are not *.tar', async () => {
    symlinkSync(t.images.busybox, join(dir, 'a-busybox.tar'));
    writeFileSync(join(dir, 'b-broken.tar'), 'not an archive');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ name: 'test', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
    expect((await t.ctr(['images', 'ls', '-q'])).stdout).not.toContain(BUSYBOX_IMAGE);

    const result = await preloadImages({ socketPath: t.socketPath, dir, logger, run: spawnRunner() });
    expect(result.imported).toEqual([{ file: join(dir, 'a-busybox.tar'), images: [BUSYBOX_IMAGE] }]);
    expect(result.failed).toEqual([{ file: join(dir, 'b-broken.tar'), error: expect.stringContaining('ctr --address') }]);
    expect((await t.ctr(['images', 'ls', '-q'])).stdout).toContain(BUSYBOX_IMAGE);
    expect(lines.map((l) => [l.msg, l.file])).toEqual([
      ['imported image archive', join(dir, 'a-busybox.tar')],
      ['could not import image archive; pods using its images will fail to start', join(dir, 'b-broken.tar')],
    ]);
  });

  it('reports a directory it cannot read as one failure', async () => {
    const missing = join(dir, 'missing');
    const result = await preloadImages({ socketPath: t.socketPath, dir: missing, logger: createLogger({ name: 'test', level: 'silent' }), run: spawnRunner() });
    expect(result).toEqual({ imported: [], failed: [{ file: missing, error: expect.stringContaining('cannot read the image preload directory: ENOENT') }] });
  });
});
