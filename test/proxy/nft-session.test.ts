// The interactive nft session with real nft, in a network namespace of its own: a transaction
// the kernel refuses is reported as failed (never counted as applied), applies nothing, and
// leaves the session usable; sessions are replaced as their input grows and leave no history.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, runChecked, spawnRunner, type Runner } from '../../agent/exec.js';
import { NftSession } from '../../agent/proxy/nft-session.js';

const netns = `sfs-${randomBytes(3).toString('hex')}`;
const host = spawnRunner();
const inNs = spawnRunner({ netns });
const started: ChildProcessWithoutNullStreams[] = [];
/** Runs in the namespace and keeps every long-lived process it starts. */
const run: Runner = Object.assign((program: string, args: readonly string[], stdin?: string) => inNs(program, args, stdin), {
  start(program: string, args: readonly string[], env?: Readonly<Record<string, string>>) {
    const child = inNs.start(program, args, env);
    started.push(child);
    return child;
  },
});
const sessions: NftSession[] = [];

function session(recycleBytes?: number): NftSession {
  const s = new NftSession(run, recycleBytes);
  sessions.push(s);
  return s;
}

const exited = (c: ChildProcessWithoutNullStreams) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)));
const elements = async (set: string) => {
  const r = await run('nft', ['-j', 'list', 'set', 'ip', 'sfs', set]);
  if (r.code !== 0) return undefined;
  const json = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  return json.nftables.find((o) => o.set)?.set?.elem ?? [];
};

beforeAll(async () => {
  await runChecked(host, 'ip', ['netns', 'add', netns]);
  await runChecked(run, 'nft', ['-f', '-'], 'add table ip sfs\nadd set ip sfs good { type ipv4_addr; }\n');
});

afterAll(async () => {
  for (const s of sessions) s.close();
  await Promise.all(started.map(exited));
  await host('ip', ['netns', 'del', netns]);
});

describe('NftSession', () => {
  it('fails a transaction the kernel refuses, applies none of it, and stays usable', async () => {
    const s = session();
    const bad = s.apply('add set ip sfs half { type ipv4_addr; }\nadd element ip sfs absent { 10.0.0.1 }');
    await expect(bad).rejects.toThrow(CommandError);
    await expect(bad).rejects.toMatchObject({ stderr: expect.stringContaining('No such file or directory') });
    expect(await elements('half')).toBeUndefined();
    await s.apply('add element ip sfs good { 10.0.0.2 }');
    expect(await elements('good')).toEqual(['10.0.0.2']);
    expect(started).toHaveLength(1);
  });

  it('reports every refused transaction among many back to back', async () => {
    const s = session();
    const outcomes: string[] = [];
    for (let i = 0; i < 300; i++) {
      const statements = i % 2 ? `add element ip sfs absent { 10.1.${i >> 8}.${i & 255} }` : `add element ip sfs good { 10.1.${i >> 8}.${i & 255} }`;
      outcomes.push(await s.apply(statements).then(() => 'applied', (err: unknown) => (err instanceof CommandError ? 'refused' : String(err))));
    }
    expect(outcomes).toEqual(Array.from({ length: 300 }, (_, i) => (i % 2 ? 'refused' : 'applied')));
    expect(await elements('good')).toHaveLength(1 + 150);
  });

  it('treats a long line as one transaction: an error at its end applies nothing', async () => {
    const s = session();
    const many = Array.from({ length: 8000 }, (_, i) => `10.2.${i >> 8}.${i & 255}`);
    const statements = `add set ip sfs long { type ipv4_addr; }\nadd element ip sfs long { ${many.join(', ')} }\nadd element ip sfs absent { 10.0.0.1 }`;
    expect(statements.length).toBeGreaterThan(64 * 1024);
    await expect(s.apply(statements)).rejects.toThrow(CommandError);
    expect(await elements('long')).toBeUndefined();
  });

  it('replaces its nft -i after enough input, failing no transaction, and writes no history file', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sfs-home-'));
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    try {
      const before = started.length;
      const s = session(1);
      for (let i = 0; i < 5; i++) await s.apply(`add element ip sfs good { 10.3.0.${i} }`);
      s.close();
      const mine = started.slice(before);
      expect(mine.length).toBe(5);
      await Promise.all(mine.map(exited));
      expect(existsSync(join(home, '.nft.history'))).toBe(false);
    } finally {
      process.env.HOME = savedHome;
      rmSync(home, { recursive: true, force: true });
    }
  });
});
