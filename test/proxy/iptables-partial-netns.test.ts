// iptables mode's incremental restores on the kernel's own tables, with enough services that
// the long chains (SERVICES and DNAT-MASQ with their /24 chains, NODEPORTS, NO-ENDPOINTS) hold
// hundreds of rules: each one-service change must touch only its own SVC chain and its own rules
// of the long chains, and leave them as a full render writes them (compared with a full render
// under another prefix in the same namespace). A restore whose rule to delete is gone must change nothing, and a full
// restore after it must repair the chains, as the proxier's next sync after a failure does.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { runChecked, spawnRunner, type Runner } from '../../agent/exec.js';
import { iptablesChains, renderIptablesDiff, renderIptablesFull } from '../../agent/proxy/iptables-render.js';
import { advanceState, diffProxyState } from '../../agent/proxy/model-diff.js';
import { cloneState, type Endpoint, type ProxyState, type Service } from '../../agent/proxy/model.js';
import { ServiceCatalog } from '../../agent/proxy/service-catalog.js';
import { eps } from '../../agent/proxy/test-fixtures.js';
import { existingChains, iptablesListing } from '../netns/iptables.js';

const SERVICES = 300;
const RESTORE_ARGS = ['--noflush', '--wait'];

const netns = `sfi-${randomBytes(3).toString('hex')}`;
const host = spawnRunner();
const run: Runner = spawnRunner({ netns });
const ours = iptablesChains('SHOPFLOOR-');
const reference = iptablesChains('SFREF-');
const catalog = new ServiceCatalog();
let applied: ProxyState;

/** Service i: VIP 10.96.<i / 256>.<i % 256>, port 80; without endpoints every 7th, a nodePort every 10th. */
function service(i: number, endpoints: Endpoint[] = i % 7 === 0 ? [] : eps(`10.1.${i >> 8}.${i & 255}`, `10.2.${i >> 8}.${i & 255}`)): Service {
  return {
    namespace: 'shop', name: `s${i}`, clusterIP: `10.96.${i >> 8}.${i & 255}`, loadBalancing: 'Random',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints, ...(i % 10 === 0 ? { nodePort: 30000 + i } : {}) }],
  };
}

/** Sets one service (undefined removes it) and applies the diff as the proxier does; returns the restore input. */
async function change(i: number, svc: Service | undefined): Promise<string> {
  const diff = diffProxyState(applied, catalog.state, catalog.setService(`shop/s${i}`, svc).changed);
  const input = renderIptablesDiff(ours, applied, catalog.state, diff);
  await runChecked(run, 'iptables-restore', RESTORE_ARGS, input);
  advanceState(applied, diff, catalog.state.nodeAddresses);
  return input;
}

async function fullRestore(c: typeof ours): Promise<void> {
  await runChecked(run, 'iptables-restore', RESTORE_ARGS, renderIptablesFull(c, catalog.state, await existingChains(run, c)));
}

/** Our chains list as a full render of the catalog's state does. */
async function expectFullRender(): Promise<void> {
  await fullRestore(reference);
  expect(await iptablesListing(run, ours)).toEqual(await iptablesListing(run, reference));
}

beforeAll(async () => {
  await runChecked(host, 'ip', ['netns', 'add', netns]);
  catalog.setNodeAddresses(['192.168.1.1']);
  for (let i = 0; i < SERVICES; i++) catalog.setService(`shop/s${i}`, service(i));
  await fullRestore(ours);
  applied = cloneState(catalog.state);
}, 60_000);

afterAll(async () => {
  await runChecked(host, 'ip', ['netns', 'delete', netns]);
});

describe('iptables incremental restores in the kernel', () => {
  /** Declares none of the long chains (which would flush and rewrite them), and stays a few lines long. */
  const expectPartial = (input: string) => {
    expect(input).not.toMatch(/^:SHOPFLOOR-(SERVICES|NODEPORTS|NO-ENDPOINTS|DNAT-MASQ) /m);
    expect(input.trimEnd().split('\n').length).toBeLessThan(16);
  };

  it.each<[string, number, () => Service | undefined]>([
    // 10.96.1.100 sorts between existing VIPs: its rules go into the middle of the long chains.
    ['adds a service with a nodePort amid the others', 356, () => ({ ...service(356), ports: [{ ...service(356).ports[0]!, nodePort: 30999 }] })],
    ['moves a service to new endpoint addresses', 101, () => service(101, eps('10.3.0.1', '10.3.0.2', '10.3.0.3'))],
    ['takes every endpoint away from a service with a nodePort', 110, () => service(110, [])],
    ['gives endpoints to a service that had none', 14, () => service(14, eps('10.3.0.14'))],
    ['removes a service', 356, () => undefined],
  ])('%s, touching only its own rules', async (_name, i, next) => {
    expectPartial(await change(i, next()));
    await expectFullRender();
  });

  it('changes nothing when a rule it deletes is gone, and a full restore repairs the chains', async () => {
    const save = async () => (await runChecked(run, 'iptables-save', ['-t', 'nat'])).stdout;
    const first = (await save()).split('\n').find((l) => l.startsWith('-A SHOPFLOOR-SVCS-'))!;
    const i = Number(/"shop\/s(\d+):http"/.exec(first)![1]);
    // Someone else deletes the rule of service i; removing the service then deletes it again.
    await runChecked(run, 'iptables', ['-w', '-t', 'nat', ...first.replace(/^-A /, '-D ').split(' ').map((w) => w.replaceAll('"', ''))]);
    const before = await iptablesListing(run, ours);
    const diff = diffProxyState(applied, catalog.state, catalog.setService(`shop/s${i}`, undefined).changed);
    await expect(runChecked(run, 'iptables-restore', RESTORE_ARGS, renderIptablesDiff(ours, applied, catalog.state, diff))).rejects.toThrow();
    expect(await iptablesListing(run, ours)).toEqual(before);
    await fullRestore(ours);
    applied = cloneState(catalog.state);
    await expectFullRender();
  });
});
