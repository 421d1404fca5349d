// ManagedContainerd with the real containerd (SHOPFLOOR_TEST_CONTAINERD picks which): start with
// preloaded images in the config layout of its version, its own shim, restart after a
// kill -9, stop, adoption by a second part or the next agent after one was killed with -9, a
// config change that restarts containerd under running containers, and failures to start.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, silentLogger, type Logger } from '../../kube/logger.js';
import { ManagedContainerd, type ManagedContainerdOptions } from '../../agent/runtime/managed-containerd.js';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, processesNaming, startTestContainerd, type TestContainerd } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  const errors: unknown[] = [];
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
});

async function testContainerd(logger?: Logger): Promise<TestContainerd> {
  const t = await startTestContainerd(logger ? { logger } : {});
  cleanups.push(() => t.stop());
  return t;
}

/** A second part on the same data dir and network, as the next agent would build it. */
function sameNode(t: TestContainerd, extra: Partial<ManagedContainerdOptions> = {}): ManagedContainerd {
  const c = new ManagedContainerd({ dataDir: t.dataDir, podCIDR: t.podCIDR, bridgeName: t.bridgeName, sandboxImage: PAUSE_IMAGE, containerdBinary: t.binary, logger: silentLogger(), ...extra });
  cleanups.push(() => c.stop());
  return c;
}

function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger({ name: 'test', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } }) };
}

/** Where `binary` is: itself when it is a path, else the first of PATH's dirs that has it. */
function onPath(binary: string): string {
  if (binary.includes('/')) return binary;
  const found = (process.env['PATH'] ?? '').split(':').map((dir) => join(dir, binary)).find((path) => existsSync(path));
  if (!found) throw new Error(`${binary} is not on PATH`);
  return found;
}

/** Whether `pid` is a live containerd of `dataDir` (a zombie's command line reads empty). */
function containerdRuns(pid: number, dataDir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(join(dataDir, 'containerd.toml'));
  } catch {
    return false;
  }
}

describe('ManagedContainerd', () => {
  it('starts containerd in its data dir with the images preloaded, ready once CRI answers', async () => {
    const t = await testContainerd();
    const c = t.containerd;
    expect(c.ready()).toBe(true);
    expect(c.endpoint).toBe(`unix://${t.dataDir}/containerd.sock`);
    const pid = c.pid()!;
    expect(containerdRuns(pid, t.dataDir)).toBe(true);
    expect(readFileSync(join(t.dataDir, 'containerd.pid'), 'utf8').trim()).toBe(String(pid));
    const config = readFileSync(join(t.dataDir, 'containerd.toml'), 'utf8');
    const version = t.containerd.version()!;
    expect(config).toMatch(version.major === 1 ? /^version = 2$/m : /^version = 3$/m);
    expect(config).toContain(`${version.major === 1 ? 'sandbox_image' : 'sandbox'} = "${PAUSE_IMAGE}"`);
    expect((await t.cri.version()).runtimeVersion).toBe(version.text);
    expect(JSON.parse(readFileSync(join(t.dataDir, 'cni', '10-shopfloor.conflist'), 'utf8'))).toMatchObject({ plugins: [{ bridge: t.bridgeName, ipam: { ranges: [[{ subnet: t.podCIDR }]] } }, {}, {}] });
    expect(c.preloadResult()).toEqual({ imported: [{ file: t.images.busybox, images: [BUSYBOX_IMAGE] }, { file: t.images.pause, images: [PAUSE_IMAGE] }], failed: [] });
    const images = await t.ctr(['images', 'ls', '-q']);
    expect(images.stdout.split('\n')).toEqual(expect.arrayContaining([BUSYBOX_IMAGE, PAUSE_IMAGE]));
    expect((await t.cri.version()).runtimeName).toBe('containerd');
    // Its own session and process group: a Ctrl-C to the agent's terminal does not reach it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect([Number(pgrp), Number(session)]).toEqual([pid, pid]);
  });

  it('starts containerd again after a kill -9, logging the death with the tail of its log', async () => {
    const { logger, lines } = capturingLogger();
    const t = await testContainerd(logger);
    const first = t.containerd.pid()!;
    process.kill(first, 'SIGKILL');
    await eventually('the part to report the death and the restart to come', () => /^containerd \(pid \d+\) was killed by SIGKILL; starting it again in 1 s$/.test(String(t.containerd.ready())));
    const second = await eventually('containerd to run again', () => t.containerd.ready() === true && t.containerd.pid());
    expect(second).not.toBe(first);
    expect(containerdRuns(second, t.dataDir)).toBe(true);
    expect(readFileSync(join(t.dataDir, 'containerd.pid'), 'utf8').trim()).toBe(String(second));
    expect((await t.cri.version()).runtimeName).toBe('containerd');
    const death = lines.find((l) => typeof l.msg === 'string' && l.msg.includes('was killed by SIGKILL; starting it again'));
    expect(death).toMatchObject({ level: 50, restartInMs: 1_000, failures: 1, logTail: expect.stringMatching(/containerd/) });
    expect(lines.some((l) => l.msg === 'containerd is running again' && l.pid === second)).toBe(true);
  });

  it('stop() ends containerd and leaves no process naming its data dir', async () => {
    const t = await testContainerd();
    const pid = t.containerd.pid()!;
    await t.containerd.stop();
    expect(containerdRuns(pid, t.dataDir)).toBe(false);
    expect(processesNaming(t.dataDir)).toEqual([]);
    expect(existsSync(join(t.dataDir, 'containerd.pid'))).toBe(false);
    expect(t.containerd.ready()).toBe('containerd was stopped');
    await t.containerd.stop();
  });

  it('a second start on the same data dir adopts the running containerd, and restarts it when it dies', async () => {
    const t = await testContainerd();
    const pid = t.containerd.pid()!;
    await t.containerd.stop({ keepRunning: true });
    expect(containerdRuns(pid, t.dataDir)).toBe(true);
    const next = sameNode(t);
    await next.start();
    expect(next.pid()).toBe(pid);
    expect(next.ready()).toBe(true);
    expect((await t.ctr(['images', 'ls', '-q'])).stdout).toContain(BUSYBOX_IMAGE);
    // Not its child: the death of an adopted containerd is found by polling its pid.
    process.kill(pid, 'SIGKILL');
    const restarted = await eventually('the adopted containerd to be replaced', () => next.ready() === true && next.pid() !== pid && next.pid());
    expect(containerdRuns(restarted, t.dataDir)).toBe(true);
  });

  it('an agent killed with -9 leaves containerd running, and the next agent adopts it', async () => {
    const t = await testContainerd();
    await t.containerd.stop();
    const agent = spawn(process.execPath, ['--import', 'tsx', 'test/runtime/fixtures/agent-with-containerd.ts', JSON.stringify({ dataDir: t.dataDir, podCIDR: t.podCIDR, bridgeName: t.bridgeName, sandboxImage: PAUSE_IMAGE, containerdBinary: t.binary })], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const exited = new Promise((r) => agent.once('exit', r));
    cleanups.push(async () => {
      agent.kill('SIGKILL');
      await exited;
    });
    let out = '';
    let err = '';
    agent.stdout.on('data', (b: Buffer) => (out += b.toString()));
    agent.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const pid = await eventually('the agent to start containerd', () => {
      if (agent.exitCode !== null) throw new Error(`agent exited: ${err}`);
      return out.includes('\n') && (JSON.parse(out) as { containerdPid: number }).containerdPid;
    });
    agent.kill('SIGKILL');
    await exited;
    expect(containerdRuns(pid, t.dataDir)).toBe(true);
    await t.containerd.start();
    expect(t.containerd.pid()).toBe(pid);
    expect(t.containerd.ready()).toBe(true);
  });

  it('restarts an adopted containerd whose config changed; running containers survive it', async () => {
    const t = await testContainerd();
    const pid = t.containerd.pid()!;
    const id = `survivor-${randomBytes(4).toString('hex')}`;
    const ran = await t.ctr(['run', '-d', BUSYBOX_IMAGE, id, 'sleep', '600']);
    expect(ran.stderr).toBe('');
    const taskPid = async () => new RegExp(`^${id}\\s+(\\d+)\\s+RUNNING`, 'm').exec((await t.ctr(['tasks', 'ls'])).stdout)?.[1];
    const before = await eventually('the task to run', taskPid);
    await t.containerd.stop({ keepRunning: true });
    const next = sameNode(t, { sandboxImage: BUSYBOX_IMAGE });
    await next.start();
    expect(next.pid()).not.toBe(pid);
    expect(containerdRuns(pid, t.dataDir)).toBe(false);
    expect(readFileSync(join(t.dataDir, 'containerd.toml'), 'utf8')).toMatch(new RegExp(`sandbox(_image)? = "${BUSYBOX_IMAGE}"`));
    expect(await taskPid()).toBe(before);
  });

  it('starts the shim that comes with its containerd', async () => {
    const t = await testContainerd();
    const id = `shim-${randomBytes(4).toString('hex')}`;
    expect((await t.ctr(['run', '-d', BUSYBOX_IMAGE, id, 'sleep', '600'])).stderr).toBe('');
    const shims = () => processesNaming(t.dataDir).filter((pid) => pid !== t.containerd.pid());
    const [shim] = await eventually('the task\'s shim to run', () => shims().length > 0 && shims());
    expect(realpathSync(`/proc/${shim}/exe`)).toBe(join(dirname(realpathSync(onPath(t.binary))), 'containerd-shim-runc-v2'));
  });

  it('restarts an adopted containerd that runs as another binary than it is given', async () => {
    const t = await testContainerd();
    const pid = t.containerd.pid()!;
    await t.containerd.stop({ keepRunning: true });
    // The same containerd and shim under another path: only the binary differs, not the config.
    const dir = mkdtempSync(join(tmpdir(), 'sf-bin-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const real = realpathSync(onPath(t.binary));
    symlinkSync(real, join(dir, 'containerd'));
    symlinkSync(join(dirname(real), 'containerd-shim-runc-v2'), join(dir, 'containerd-shim-runc-v2'));
    const next = sameNode(t, { containerdBinary: join(dir, 'containerd') });
    await next.start();
    expect(next.pid()).not.toBe(pid);
    expect(containerdRuns(pid, t.dataDir)).toBe(false);
    expect(readFileSync(`/proc/${next.pid()}/cmdline`, 'utf8').split('\0')[0]).toBe(join(dir, 'containerd'));
  });

  describe('failing to start', () => {
    let dir: string;
    const part = (extra: Partial<ManagedContainerdOptions>) => new ManagedContainerd({ dataDir: dir, podCIDR: '10.89.0.0/24', bridgeName: 'sft0', sandboxImage: PAUSE_IMAGE, logger: silentLogger(), ...extra });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('names the binary that cannot be run', async () => {
      dir = mkdtempSync(join(tmpdir(), 'sf-ctd-'));
      await expect(part({ containerdBinary: join(dir, 'no-such-containerd') }).start()).rejects.toThrow(`cannot start ${dir}/no-such-containerd: spawn ${dir}/no-such-containerd ENOENT; install containerd`);
    });

    /** A fake: real containerd cannot be made to fail this way. It answers --version as containerd 1.6 does, and runs `script` otherwise. */
    const fakeContainerd = (script: string): string => {
      const fake = join(dir, 'containerd');
      writeFileSync(fake, `#!/bin/sh\nif [ "$1" = --version ]; then echo "containerd github.com/containerd/containerd 1.6.20~ds1 fake"; exit 0; fi\n${script}\n`);
      chmodSync(fake, 0o755);
      return fake;
    };

    it('refuses a binary that is not containerd, or a containerd whose config it does not write', async () => {
      dir = mkdtempSync(join(tmpdir(), 'sf-ctd-'));
      await expect(part({ containerdBinary: '/bin/false' }).start()).rejects.toThrow('/bin/false --version exited with code 1: (no stderr); is /bin/false containerd?');
      await expect(part({ containerdBinary: '/bin/true' }).start()).rejects.toThrow(/^\/bin\/true --version printed "true \(GNU coreutils\) [^"]+", not "containerd <module> <version> \.\.\.": is \/bin\/true containerd\?/);
      const old = join(dir, 'containerd-2.0');
      writeFileSync(old, '#!/bin/sh\necho "containerd github.com/containerd/containerd/v2 v2.0.5 fake"\n');
      chmodSync(old, 0o755);
      await expect(part({ containerdBinary: old }).start()).rejects.toThrow(`${old} is containerd v2.0.5; Shopfloor runs containerd 1.x (config version 2) or 2.1 and newer 2.x (config version 3)`);
      expect(existsSync(join(dir, 'containerd.toml'))).toBe(false);
    });

    it('reports a containerd that exits at once, with its log', async () => {
      dir = mkdtempSync(join(tmpdir(), 'sf-ctd-'));
      const c = part({ containerdBinary: fakeContainerd('echo "fake containerd exits"; exit 1') });
      await expect(c.start()).rejects.toThrow(new RegExp(`containerd \\(pid \\d+\\) exited with code 1 before it answered on ${dir}/containerd.sock; its log ${dir}/containerd.log ends with:\nfake containerd exits`));
      expect(c.ready()).toMatch(/^containerd failed to start: /);
    });

    it('gives up on a containerd that never answers, ends it, and names its log', async () => {
      dir = mkdtempSync(join(tmpdir(), 'sf-ctd-'));
      const c = part({ containerdBinary: fakeContainerd('echo "fake containerd never listens"\nexec sleep 600'), readyTimeoutMs: 1_000 });
      const failure = await c.start().then(() => new Error('started'), (err: Error) => err);
      expect(failure.message).toMatch(new RegExp(`^containerd \\(pid \\d+\\) did not answer on ${dir}/containerd.sock within 1 s; see its log ${dir}/containerd.log, which ends with:\\nfake containerd never listens`));
      const pid = Number(/pid (\d+)/.exec(failure.message)![1]);
      expect(existsSync(`/proc/${pid}`)).toBe(false);
      expect(existsSync(join(dir, 'containerd.pid'))).toBe(false);
    });
  });
});
