// The shared containerd harness for integration suites: a real ManagedContainerd in a fresh temp
// dir, with the busybox and pause images preloaded, a pod CIDR and bridge of its own, and a
// stop() that leaves nothing behind (sandboxes, shims and their containers, mounts, the bridge,
// the dir), also when the suite failed half-way. Which containerd runs is one setting,
// SHOPFLOOR_TEST_CONTAINERD: `debian` (default; Debian's 1.6 on PATH) or `pinned` (the 2.x that
// scripts/build-tools.sh builds into SHOPFLOOR_TOOLS_BIN, with its shim beside it).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient } from '../../agent/cri/client.js';
import { runChecked, spawnRunner, type RunResult } from '../../agent/exec.js';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, buildBusyboxImages, type BusyboxImages } from '../../agent/runtime/busybox-images.js';
import { containerdPaths, type RuntimeHandler } from '../../agent/runtime/containerd-config.js';
import { ManagedContainerd } from '../../agent/runtime/managed-containerd.js';
import { silentLogger, type Logger } from '../../kube/logger.js';
import { toolBinary } from '../../cli/tools-bin.js';

export { BUSYBOX_IMAGE, PAUSE_IMAGE };

/** Built once per machine and reused: buildBusyboxImages rebuilds only when busybox changed. */
export const TEST_IMAGES_DIR = join(tmpdir(), 'shopfloor-test-images');
/** One claim file per network slot n (10.89.n.0/24, bridge sft<n>), holding the owner's pid. */
const NET_SLOTS_DIR = join(tmpdir(), 'shopfloor-test-net');
const SLOTS = 250;

export const TEST_CONTAINERD_SETTING = 'SHOPFLOOR_TEST_CONTAINERD';
export const TEST_CONTAINERDS = ['debian', 'pinned'] as const;

/** The containerd binary SHOPFLOOR_TEST_CONTAINERD names, or an error saying what to set or build. */
export function testContainerdBinary(env: NodeJS.ProcessEnv = process.env): string {
  const choice = env[TEST_CONTAINERD_SETTING] || 'debian';
  if (choice === 'debian') return 'containerd';
  if (choice !== 'pinned') throw new Error(`${TEST_CONTAINERD_SETTING}="${choice}" is not a containerd the tests run on; use one of ${TEST_CONTAINERDS.join(', ')} (default debian)`);
  const neededFor = `${TEST_CONTAINERD_SETTING}=pinned`;
  const binary = toolBinary('containerd', neededFor, env);
  // containerd starts the shim beside it; one without it would start Debian's from PATH.
  toolBinary('containerd-shim-runc-v2', neededFor, env);
  return binary;
}

export interface TestContainerdOptions {
  /** Default: runc, and crun where it is installed. */
  runtimeHandlers?: RuntimeHandler[];
  /** Import the busybox and pause images at start; default true. */
  preload?: boolean;
  logger?: Logger;
}

export interface TestContainerd {
  containerd: ManagedContainerd;
  /** The containerd binary it runs (testContainerdBinary). */
  binary: string;
  dataDir: string;
  /** `unix://<dataDir>/containerd.sock` */
  endpoint: string;
  socketPath: string;
  podCIDR: string;
  bridgeName: string;
  images: BusyboxImages;
  /** A CRI client on this containerd, closed by stop(). */
  cri: CriClient;
  /** Runs `ctr -n k8s.io <args>` against this containerd. */
  ctr(args: readonly string[]): Promise<RunResult>;
  /** Removes every pod sandbox, ends containerd and whatever it left, and removes the dir. Throws what it could not clean. */
  stop(): Promise<void>;
}

const run = spawnRunner();

export async function startTestContainerd(opts: TestContainerdOptions = {}): Promise<TestContainerd> {
  const binary = testContainerdBinary();
  const images = await buildBusyboxImages(TEST_IMAGES_DIR);
  const slot = await claimNetSlot();
  const dataDir = await mkdtemp(join(tmpdir(), 'sf-ctd-'));
  const podCIDR = `10.89.${slot}.0/24`;
  const bridgeName = `sft${slot}`;
  const containerd = new ManagedContainerd({
    dataDir,
    podCIDR,
    bridgeName,
    sandboxImage: PAUSE_IMAGE,
    containerdBinary: binary,
    ...(opts.runtimeHandlers ? { runtimeHandlers: opts.runtimeHandlers } : {}),
    ...(opts.preload === false ? {} : { preloadDir: TEST_IMAGES_DIR }),
    logger: opts.logger ?? silentLogger(),
  });
  const cri = new CriClient({ endpoint: containerd.endpoint, timeoutMs: 30_000 });
  const socketPath = containerd.paths.socket;
  let stopped: Promise<void> | undefined;
  const t: TestContainerd = {
    containerd,
    binary,
    dataDir,
    endpoint: containerd.endpoint,
    socketPath,
    podCIDR,
    bridgeName,
    images,
    cri,
    ctr: (args) => run('ctr', ['--address', socketPath, '--connect-timeout', '5s', '-n', 'k8s.io', ...args]),
    stop: () => (stopped ??= cleanUp(t, slot)),
  };
  try {
    await containerd.start();
    const failed = containerd.preloadResult()?.failed ?? [];
    if (failed.length > 0) throw new Error(`test images failed to import: ${failed.map((f) => `${f.file}: ${f.error}`).join('; ')}`);
  } catch (err) {
    await t.stop().catch(() => undefined);
    throw err;
  }
  return t;
}

async function cleanUp(t: TestContainerd, slot: number): Promise<void> {
  const problems: string[] = [];
  const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  // Through CRI first: StopPodSandbox also tears down the pod network (CNI DEL: veth, IP,
  // masquerade rules), which nothing after this would find. A containerd that was let go or
  // killed is brought back for it when it left sandboxes.
  if (t.containerd.pid() === undefined && existsSync(join(t.dataDir, 'state', 'io.containerd.grpc.v1.cri', 'sandboxes'))) {
    await step('start containerd again to remove its pod sandboxes', () => t.containerd.start());
  }
  if (t.containerd.pid() !== undefined) {
    await step('remove pod sandboxes', async () => {
      for (const sandbox of await t.cri.listPodSandbox()) {
        await t.cri.stopPodSandbox(sandbox.id);
        await t.cri.removePodSandbox(sandbox.id);
      }
    });
  }
  t.cri.close();
  await step('stop containerd', () => t.containerd.stop());
  await step('remove what containerd left', () => removeRuntimeLeftovers(t.dataDir));
  await step(`delete bridge ${t.bridgeName}`, () => deleteLink(t.bridgeName));
  await step('remove the data dir', () => rm(t.dataDir, { recursive: true, force: true }));
  await releaseNetSlot(slot);
  if (problems.length > 0) throw new Error(`test containerd in ${t.dataDir} was not cleaned up: ${problems.join('; ')}`);
}

/**
 * Ends whatever a managed containerd of `dataDir` left running or mounted, without it: its
 * containers (by their runtime state), its shims and their processes, containerd itself if it
 * runs, and the mounts under the dir (pod network namespaces). For when no CRI call can clean
 * up any more; the host side of the pod network (bridge, veths, masquerade rules) is left.
 */
export async function removeRuntimeLeftovers(dataDir: string): Promise<void> {
  await deleteRuncContainers(dataDir);
  await killShimsOf(dataDir);
  await unmountUnder(dataDir);
}

/** The pids whose command line names something under `dir` (shims name containerd's socket). */
export function processesNaming(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg === dir || arg.startsWith(`${dir}/`))) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * The containers left in the runtime root of the managed containerd of `dataDir`, k8s.io
 * namespace. `runc delete --force` kills all their processes and removes their state.
 */
async function deleteRuncContainers(dataDir: string): Promise<void> {
  const root = join(containerdPaths(dataDir).runtimeRoot, 'k8s.io');
  if (!existsSync(root)) return;
  const listed = await runChecked(run, 'runc', ['--root', root, 'list', '--format', 'json']);
  const containers = (JSON.parse(listed.stdout.trim() || 'null') as { id: string }[] | null) ?? [];
  for (const c of containers) await runChecked(run, 'runc', ['--root', root, 'delete', '--force', c.id]);
}

/** Shims outlive containerd on purpose; here they and the containers they hold must go too. */
async function killShimsOf(dataDir: string): Promise<void> {
  const shims = processesNaming(dataDir);
  if (shims.length === 0) return;
  const children = childrenOf(new Set(shims));
  for (const pid of [...children, ...shims]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function childrenOf(parents: Set<number>): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      // Field 4 of /proc/<pid>/stat, after the parenthesised command (which may hold spaces).
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parents.has(ppid)) children.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** Mount points at or under `dir` in this mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything at or under `dir`, deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const mountPoint of mountsUnder(dir)) {
    const r = await run('umount', ['-l', mountPoint]);
    if (r.code !== 0 && mountsUnder(dir).includes(mountPoint)) throw new Error(`umount -l ${mountPoint}: ${r.stderr.trim()}`);
  }
}

async function deleteLink(name: string): Promise<void> {
  if ((await run('ip', ['link', 'show', name])).code !== 0) return;
  const r = await run('ip', ['link', 'del', name]);
  if (r.code !== 0) throw new Error(r.stderr.trim());
}

/**
 * Claims a free slot for this process (also across jest workers): an exclusive create of the
 * slot's file. A file whose owner is dead is taken over, and so is a bridge it left behind.
 */
async function claimNetSlot(): Promise<number> {
  await mkdir(NET_SLOTS_DIR, { recursive: true });
  const first = Math.floor(Math.random() * SLOTS);
  for (let i = 0; i < SLOTS; i++) {
    const slot = 1 + ((first + i) % SLOTS);
    const file = join(NET_SLOTS_DIR, String(slot));
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
    } catch {
      const owner = Number(await readFile(file, 'utf8').catch(() => ''));
      if (owner > 0 && isAlive(owner)) continue;
      await unlink(file).catch(() => undefined);
      try {
        await writeFile(file, String(process.pid), { flag: 'wx' });
      } catch {
        continue;
      }
    }
    await deleteLink(`sft${slot}`);
    return slot;
  }
  throw new Error(`all ${SLOTS} test network slots in ${NET_SLOTS_DIR} are taken by live processes`);
}

async function releaseNetSlot(slot: number): Promise<void> {
  await unlink(join(NET_SLOTS_DIR, String(slot))).catch(() => undefined);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
