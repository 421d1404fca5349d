// The static manifest directory as the agent reads it, on a real directory with real fs.watch
// events; the clock is fake only for the timers (the retry of a missing directory's watch).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeAssignment } from '../../api/index.js';
import { FakeClock } from '../../kube/fake-clock.js';
import { StaticManifests } from '../../agent/node/static-manifests.js';
import { eventually } from '../harness/eventually.js';

function workload(name: string, image = 'busybox:1.36'): string {
  return `apiVersion: shopfloor.dev/v1alpha1
kind: NodeWorkload
metadata: { name: ${name} }
spec:
  placement: { mode: EveryNode }
  template:
    containers: [{ name: main, image: "${image}" }]
`;
}

describe('StaticManifests', () => {
  let root: string;
  let dir: string;
  let source: StaticManifests | undefined;
  let events: string[];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'shopfloor-static-'));
    dir = join(root, 'manifests');
    events = [];
  });

  afterEach(async () => {
    await source?.stop();
    source = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  async function start(clock = new FakeClock()): Promise<StaticManifests> {
    source = new StaticManifests({ dir, nodeName: 'node-1', clock });
    const name = (a: NodeAssignment): string => `${a.metadata.namespace}/${a.metadata.name}`;
    source.addEventHandler({
      onAdd: (a) => events.push(`add ${name(a)}`),
      onUpdate: (o, a) => events.push(`update ${name(a)} ${o.spec.template.containers[0]?.image} -> ${a.spec.template.containers[0]?.image}`),
      onDelete: (a) => events.push(`delete ${name(a)}`),
    });
    await source.start();
    return source;
  }

  it('adds, updates and deletes static assignments as files come, change and go; dotfiles and directories are skipped', async () => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'web.yaml'), workload('web'));
    writeFileSync(join(dir, '.web.yaml.swp'), workload('swap'));
    mkdirSync(join(dir, 'sub'));
    const s = await start();
    expect(await s.waitForSync()).toBe(true);
    expect(s.ready()).toBe(true);
    expect(events).toEqual(['add default/web-node-1']);
    expect(s.get('default/web-node-1')?.spec.nodeName).toBe('node-1');

    writeFileSync(join(dir, 'web.yaml'), workload('web', 'busybox:1.37'));
    await eventually('the edit to be seen', () => events.length === 2);
    expect(events[1]).toBe('update default/web-node-1 busybox:1.36 -> busybox:1.37');

    writeFileSync(join(dir, 'api.yaml'), workload('api'));
    await eventually('the new file to be seen', () => s.get('default/api-node-1'));
    unlinkSync(join(dir, 'web.yaml'));
    await eventually('the removal to be seen', () => !s.get('default/web-node-1'));
    expect(events.slice(2)).toEqual(['add default/api-node-1', 'delete default/web-node-1']);
    expect(s.list().map((a) => a.metadata.name)).toEqual(['api-node-1']);
  });

  it('skips a bad file and reports it with the field error, and keeps a file\'s last valid version while it is broken', async () => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'web.yaml'), workload('web'));
    writeFileSync(join(dir, 'bad.yaml'), workload('bad', ''));
    const s = await start();
    expect(s.list().map((a) => a.metadata.name)).toEqual(['web-node-1']);
    expect(s.problems()).toEqual([
      { file: join(dir, 'bad.yaml'), document: 1, workload: 'bad', errors: [{ path: 'spec.template.containers[0].image', message: 'must be an image reference such as busybox:1.36' }] },
    ]);

    // A save cut short: the workload keeps its last valid version until the file is whole again.
    writeFileSync(join(dir, 'web.yaml'), 'apiVersion: shopfloor.dev/v1alpha1\nkind: NodeWorkload\nmetadata: { name: web }\nspec:\n');
    await eventually('the broken edit to be reported', () => s.problems().some((p) => p.file.endsWith('web.yaml')));
    expect(s.list().map((a) => a.metadata.name).sort()).toEqual(['web-node-1']);
    writeFileSync(join(dir, 'web.yaml'), workload('web', 'busybox:1.37'));
    writeFileSync(join(dir, 'bad.yaml'), workload('bad'));
    await eventually('both files to be whole', () => s.problems().length === 0 && s.get('default/bad-node-1'));
    expect(s.get('default/web-node-1')?.spec.template.containers[0]?.image).toBe('busybox:1.37');
    expect(events.sort()).toEqual(['add default/bad-node-1', 'add default/web-node-1', 'update default/web-node-1 busybox:1.36 -> busybox:1.37']);
  });

  it('keeps the first of two files that define the same workload, and reports the second', async () => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.yaml'), workload('web'));
    writeFileSync(join(dir, 'b.yaml'), workload('web', 'busybox:1.37'));
    const s = await start();
    expect(s.get('default/web-node-1')?.metadata.annotations?.['shopfloor.dev/config-source']).toBe(join(dir, 'a.yaml'));
    expect(s.problems().map((p) => [p.file, p.errors[0]?.message])).toEqual([[join(dir, 'b.yaml'), `NodeAssignment default/web-node-1 is already defined by ${join(dir, 'a.yaml')}; this one is skipped: rename the workload`]]);
  });

  it('takes a missing directory for an empty set, and reads it once it appears', async () => {
    const clock = new FakeClock();
    const s = await start(clock);
    expect(await s.waitForSync()).toBe(true);
    expect(s.list()).toEqual([]);

    mkdirSync(join(root, 'staging'));
    writeFileSync(join(root, 'staging', 'web.yaml'), workload('web'));
    renameSync(join(root, 'staging'), dir);
    // The watch is retried after 1 s at most (jittered backoff); the retry reads the directory.
    await clock.advance(1_000);
    await eventually('the directory to be read', () => s.get('default/web-node-1'));

    rmSync(dir, { recursive: true });
    await eventually('the deleted directory to empty the set', () => s.list().length === 0);
    expect(events).toEqual(['add default/web-node-1', 'delete default/web-node-1']);
  });

  it('re-reads the directory on its resync period', async () => {
    const clock = new FakeClock();
    mkdirSync(dir);
    const s = await start(clock);
    // Written while the watch is closed, so only the periodic read can see it.
    (s as unknown as { watcher?: { close(): void } }).watcher?.close();
    writeFileSync(join(dir, 'web.yaml'), workload('web'));
    await clock.advance(19_999);
    expect(s.list()).toEqual([]);
    await clock.advance(1);
    await eventually('the periodic read', () => s.get('default/web-node-1'));
  });
});
