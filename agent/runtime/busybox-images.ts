// The two local images Shopfloor's examples and tests run, built from this machine's static
// busybox (Debian's busybox-static) with no registry: `shopfloor.dev/busybox:test`, a small root
// fs with every busybox applet, and `shopfloor.dev/pause:test`, the pod sandbox image, whose
// command sleeps forever. Both are OCI archives for `ctr -n k8s.io images import`.
import { readFile, rename, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked, spawnRunner, type Runner } from '../exec.js';
import { ociArchitecture, ociImageArchive } from './oci-archive.js';
import { tarArchive, type TarEntry } from './tar-archive.js';

export const BUSYBOX_IMAGE = 'shopfloor.dev/busybox:test';
export const PAUSE_IMAGE = 'shopfloor.dev/pause:test';
export const DEFAULT_BUSYBOX = '/bin/busybox';

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';
/**
 * Written beside the archives: which busybox (and which layout of this builder) they hold.
 * Bump LAYOUT when the images' contents change, so archives built before are rebuilt.
 */
const STAMP_FILE = 'busybox-images.json';
const LAYOUT = 1;

export interface BusyboxImages {
  /** Path of the `shopfloor.dev/busybox:test` archive. */
  busybox: string;
  /** Path of the `shopfloor.dev/pause:test` archive. */
  pause: string;
}

export interface BuildBusyboxImagesOptions {
  /** The static busybox binary to package; default /bin/busybox. */
  busyboxPath?: string;
  /** Runs `busybox --list`; default: spawnRunner(). */
  run?: Runner;
}

/**
 * Writes `busybox.tar` and `pause.tar` into `outDir` (created if missing) and returns their
 * paths. Archives already there from the same busybox binary are kept as they are. Safe to call
 * from several processes at once: each archive is written to a private file and renamed.
 */
export async function buildBusyboxImages(outDir: string, options: BuildBusyboxImagesOptions = {}): Promise<BusyboxImages> {
  const busyboxPath = options.busyboxPath ?? DEFAULT_BUSYBOX;
  const paths: BusyboxImages = { busybox: join(outDir, 'busybox.tar'), pause: join(outDir, 'pause.tar') };
  const source = await stat(busyboxPath).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot build the busybox images: ${busyboxPath}: ${err.message}; install Debian's busybox-static (apt-get install busybox-static)`);
  });
  const stamp = JSON.stringify({ layout: LAYOUT, busybox: busyboxPath, size: source.size, mtimeMs: source.mtimeMs });
  if ((await readIfPresent(join(outDir, STAMP_FILE))) === stamp && (await exists(paths.busybox)) && (await exists(paths.pause))) return paths;

  const binary = await readFile(busyboxPath);
  const list = await runChecked(options.run ?? spawnRunner(), busyboxPath, ['--list']);
  const layer = busyboxLayer(binary, list.stdout.split('\n'));
  const architecture = ociArchitecture();
  const createdBy = `shopfloor busybox-images from ${busyboxPath}`;
  await mkdir(outDir, { recursive: true });
  await writeAtomically(paths.busybox, ociImageArchive({ name: BUSYBOX_IMAGE, layers: [layer], architecture, createdBy, config: { Env: [PATH], Cmd: ['sh'], WorkingDir: '/' } }));
  await writeAtomically(
    paths.pause,
    ociImageArchive({ name: PAUSE_IMAGE, layers: [layer], architecture, createdBy, config: { Env: [PATH], Cmd: ['/bin/busybox', 'sleep', '2147483647'], WorkingDir: '/' } }),
  );
  await writeAtomically(join(outDir, STAMP_FILE), Buffer.from(stamp));
  return paths;
}

/**
 * The root fs layer: /bin/busybox, a symlink in /bin per applet, /tmp, /root, and an /etc/passwd
 * and /etc/group that know root and nobody. Entries sorted by name, so the tar is reproducible.
 */
export function busyboxLayer(busybox: Buffer, applets: readonly string[]): Buffer {
  const names = [...new Set(applets.map((a) => a.trim()).filter((a) => a !== '' && a !== 'busybox'))];
  for (const name of names) {
    if (name.includes('/') || name === '.' || name === '..') throw new Error(`busybox --list printed "${name}", which is not an applet name`);
  }
  const entries: TarEntry[] = [
    { type: 'dir', path: 'bin', mode: 0o755 },
    { type: 'file', path: 'bin/busybox', mode: 0o755, data: busybox },
    ...names.map((name): TarEntry => ({ type: 'symlink', path: `bin/${name}`, target: 'busybox' })),
    { type: 'dir', path: 'etc', mode: 0o755 },
    { type: 'file', path: 'etc/group', mode: 0o644, data: Buffer.from(GROUP) },
    { type: 'file', path: 'etc/passwd', mode: 0o644, data: Buffer.from(PASSWD) },
    { type: 'dir', path: 'root', mode: 0o700 },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
  ];
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return tarArchive(entries);
}

async function writeAtomically(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
