// The busybox and pause images: built reproducibly from this machine's busybox, rebuilt only when
// busybox changed, and run by the real containerd with what they promise inside.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked, spawnRunner } from '../../agent/exec.js';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, buildBusyboxImages } from '../../agent/runtime/busybox-images.js';
import { startTestContainerd, type TestContainerd } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';

const run = spawnRunner();
let dir: string;
let t: TestContainerd | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sf-images-'));
});
afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The layer of an image archive, listed by GNU tar (`tar -tv`), and the image config. */
async function inspect(archive: string): Promise<{ layer: string[]; config: { config: { Cmd: string[]; Env: string[] } } }> {
  const out = join(dir, `x-${randomBytes(4).toString('hex')}`);
  mkdirSync(out);
  await runChecked(run, 'tar', ['-xf', archive, '-C', out]);
  const blob = (digest: string) => join(out, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const layer = await runChecked(run, 'tar', ['-tvf', blob(manifest.layers[0]!.digest), '--numeric-owner', '--utc']);
  return { layer: layer.stdout.trim().split('\n'), config: JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) };
}

describe('buildBusyboxImages', () => {
  it('builds the same bytes twice, and keeps archives that are up to date', async () => {
    const a = await buildBusyboxImages(join(dir, 'a'));
    const b = await buildBusyboxImages(join(dir, 'b'));
    expect(readFileSync(a.busybox).equals(readFileSync(b.busybox))).toBe(true);
    expect(readFileSync(a.pause).equals(readFileSync(b.pause))).toBe(true);
    const before = statSync(a.busybox);
    expect(await buildBusyboxImages(join(dir, 'a'))).toEqual(a);
    expect(statSync(a.busybox).ino).toBe(before.ino);
  });

  it('rebuilds when busybox changed', async () => {
    const busyboxPath = join(dir, 'busybox');
    copyFileSync('/bin/busybox', busyboxPath);
    const out = join(dir, 'c');
    const first = await buildBusyboxImages(out, { busyboxPath });
    const ino = statSync(first.busybox).ino;
    expect(statSync((await buildBusyboxImages(out, { busyboxPath })).busybox).ino).toBe(ino);
    utimesSync(busyboxPath, new Date(), new Date(Date.now() + 5_000));
    expect(statSync((await buildBusyboxImages(out, { busyboxPath })).busybox).ino).not.toBe(ino);
  });

  it('names a missing busybox and the package to install', async () => {
    await expect(buildBusyboxImages(join(dir, 'd'), { busyboxPath: join(dir, 'nope') })).rejects.toThrow(`cannot build the busybox images: ${dir}/nope: ENOENT`);
    await expect(buildBusyboxImages(join(dir, 'd'), { busyboxPath: join(dir, 'nope') })).rejects.toThrow('install Debian\'s busybox-static');
  });

  it('lays out busybox, a link per applet, /tmp and the users in the layer, with the promised commands', async () => {
    const images = await buildBusyboxImages(join(dir, 'a'));
    const busybox = await inspect(images.busybox);
    /** mode and size of `path` in the listing. */
    const entry = (path: string) => {
      const line = busybox.layer.find((l) => l.endsWith(` ${path}`));
      const m = line && /^(\S+) 0\/0 +(\d+) 1970-01-01 00:00 /.exec(line);
      return m ? { mode: m[1], size: Number(m[2]) } : undefined;
    };
    expect(entry('bin/')).toEqual({ mode: 'drwxr-xr-x', size: 0 });
    expect(entry('bin/busybox')).toEqual({ mode: '-rwxr-xr-x', size: statSync('/bin/busybox').size });
    expect(entry('bin/sh -> busybox')).toEqual({ mode: 'lrwxrwxrwx', size: 0 });
    expect(entry('tmp/')).toEqual({ mode: 'drwxrwxrwt', size: 0 });
    expect(entry('etc/passwd')?.mode).toBe('-rw-r--r--');
    expect(entry('etc/group')?.mode).toBe('-rw-r--r--');
    const applets = (await runChecked(run, '/bin/busybox', ['--list'])).stdout.trim().split('\n');
    expect(busybox.layer.filter((l) => l.endsWith(' -> busybox'))).toHaveLength(applets.filter((a) => a !== 'busybox').length);
    expect(busybox.config.config).toEqual({ Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], WorkingDir: '/' });
    const pause = await inspect(images.pause);
    expect(pause.layer).toEqual(busybox.layer);
    expect(pause.config.config.Cmd).toEqual(['/bin/busybox', 'sleep', '2147483647']);
  });

  it('runs in containerd: the busybox image has a shell, applets and users; the pause image sleeps', async () => {
    t = await startTestContainerd();
    const id = `bb-${randomBytes(4).toString('hex')}`;
    const out = await t.ctr(['run', '--rm', BUSYBOX_IMAGE, id, 'sh', '-c', 'id -un; su nobody -s /bin/sh -c "id -u; touch /tmp/x && echo tmp-writable"; wget --help 2>&1 | head -1; echo $PATH']);
    expect(out.stderr).toBe('');
    expect(out.stdout.split('\n')).toEqual(['root', '65534', 'tmp-writable', expect.stringMatching(/^BusyBox v/), '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '']);
    const pause = `pause-${randomBytes(4).toString('hex')}`;
    expect((await t.ctr(['run', '-d', PAUSE_IMAGE, pause])).stderr).toBe('');
    const pid = await eventually('the pause task to run', async () => Number(new RegExp(`^${pause}\\s+(\\d+)\\s+RUNNING`, 'm').exec((await t!.ctr(['tasks', 'ls'])).stdout)?.[1]) || undefined);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(['/bin/busybox', 'sleep', '2147483647', '']);
  });
});
