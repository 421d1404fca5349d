import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { systemClock } from '../../kube/clock.js';
import { FakeClock } from '../../kube/fake-clock.js';
import { silentLogger } from '../../kube/logger.js';
import type { ProxyBackend } from './backend.js';
import type { Runner } from '../exec.js';
import { proxyMetrics } from './metrics.js';
import { Proxier } from './proxier.js';
import { ServiceCatalog, buildProxyState } from './service-catalog.js';
import { dns, eps, web } from './test-fixtures.js';

/** A fake backend: accepts every apply, programs nothing. */
const acceptingBackend: ProxyBackend = {
  mode: 'nftables',
  apply: async () => undefined,
  counts: () => ({ rules: 0, elements: 0 }),
  cleanup: async () => undefined,
  close: () => undefined,
};

/** A fake runner for a host without conntrack: every run fails to start, as spawnRunner's does. */
const noConntrack: Runner = Object.assign(
  async (program: string) => {
    throw new Error(`cannot run ${program}: spawn ${program} ENOENT; is it installed and on PATH?`);
  },
  {
    start: () => {
      throw new Error('the fake runner starts no process');
    },
  },
);

describe('Proxier', () => {
  it('counts a failed conntrack cleanup and keeps the sync a success when conntrack cannot run', async () => {
    const registry = new Registry();
    const proxier = new Proxier({
      backend: acceptingBackend, run: noConntrack, logger: silentLogger(), metrics: proxyMetrics(registry, 'nftables'),
      clock: systemClock, minSyncPeriodMs: 1000, fullResyncPeriodMs: 3_600_000,
    });
    proxier.setState(buildProxyState([dns(eps('10.1.0.5', '10.1.0.6'))], []).state);
    expect(await proxier.sync(true)).toBe(true);
    proxier.setState(buildProxyState([dns(eps('10.1.0.6'))], []).state);
    expect(await proxier.sync(false)).toBe(true);
    expect(await registry.metrics()).toContain('shopfloor_agent_proxy_conntrack_cleanup_failures_total 1');
    proxier.setState(buildProxyState([dns([])], []).state);
    expect(await proxier.sync(false)).toBe(true);
    await proxier.stop();
  });

  it('times each changed frontend from the change to the sync that programs it, across a failed sync, and stamps when a sync was queued and when one last succeeded', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    let failNext = false;
    const backend: ProxyBackend = {
      ...acceptingBackend,
      apply: async () => {
        if (failNext) throw new Error('nft: the kernel refused the transaction');
      },
    };
    const proxier = new Proxier({
      backend, run: noConntrack, logger: silentLogger(), metrics: proxyMetrics(registry, 'nftables'),
      clock, minSyncPeriodMs: 1000, fullResyncPeriodMs: 3_600_000,
    });
    const catalog = new ServiceCatalog();
    proxier.setState(catalog.state);
    expect(await proxier.sync(true)).toBe(true);
    const programming = async () => {
      const text = await registry.metrics();
      return { sum: Number(/^kubeproxy_network_programming_duration_seconds_sum (\S+)$/m.exec(text)?.[1]), count: Number(/^kubeproxy_network_programming_duration_seconds_count (\S+)$/m.exec(text)?.[1]) };
    };
    // The first state came without keys: nothing changed yet, nothing is timed.
    expect(await programming()).toEqual({ sum: 0, count: 0 });

    proxier.setState(catalog.state, catalog.setService('shop/web', web(eps('10.1.0.5'))).changed);
    expect(await registry.metrics()).toContain(`kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds ${clock.now() / 1000}`);
    await clock.advance(200);
    proxier.setState(catalog.state, catalog.setService('kube/dns', dns(eps('10.1.0.7'))).changed);
    await clock.advance(300);
    failNext = true;
    expect(await proxier.sync(false)).toBe(false);
    expect((await programming()).count).toBe(0);
    await clock.advance(500);
    failNext = false;
    expect(await proxier.sync(true)).toBe(true);
    // web waited 1 s, dns 0.8 s: one observation per changed frontend.
    expect(await programming()).toEqual({ sum: 1.8, count: 2 });
    // A sync with nothing to write is a sync all the same: the rules are current.
    await clock.advance(1000);
    expect(await proxier.sync(false)).toBe(true);
    expect((await programming()).count).toBe(2);
    expect(await registry.metrics()).toContain(`kubeproxy_sync_proxy_rules_last_timestamp_seconds ${clock.now() / 1000}`);
    await proxier.stop();
  });

  it('tells what failed, since when and how often, while syncs fail, and nothing once one succeeds', async () => {
    const clock = new FakeClock(5000);
    let refusals = 2;
    const backend: ProxyBackend = {
      ...acceptingBackend,
      apply: async () => {
        if (refusals-- > 0) throw new Error('nft: Operation not permitted');
      },
    };
    const proxier = new Proxier({ backend, run: noConntrack, logger: silentLogger(), metrics: proxyMetrics(new Registry(), 'nftables'), clock, minSyncPeriodMs: 1000, fullResyncPeriodMs: 3_600_000 });
    proxier.setState(buildProxyState([dns(eps('10.1.0.5'))], []).state);
    expect(await proxier.sync(true)).toBe(false);
    await clock.advance(1000);
    expect(await proxier.sync(true)).toBe(false);
    expect(proxier.failing()).toEqual({ message: 'nft: Operation not permitted', since: 5000, attempts: 2 });
    expect(proxier.hasSynced()).toBe(false);
    expect(await proxier.sync(true)).toBe(true);
    expect(proxier.failing()).toBeUndefined();
    await proxier.stop();
  });

  it('reports the rules for the NodeAgent: not in sync while syncs fail or a change waits, then in sync with when and how many', async () => {
    const clock = new FakeClock(5000);
    let refuse = true;
    const backend: ProxyBackend = {
      ...acceptingBackend,
      apply: async () => {
        if (refuse) throw new Error('nft: Operation not permitted');
      },
      counts: (state) => ({ rules: state.frontends.size * 2, elements: 1 }),
    };
    const proxier = new Proxier({ backend, run: noConntrack, logger: silentLogger(), metrics: proxyMetrics(new Registry(), 'nftables'), clock, minSyncPeriodMs: 1000, fullResyncPeriodMs: 3_600_000 });
    const catalog = new ServiceCatalog();
    proxier.setState(catalog.state);
    expect(await proxier.sync(true)).toBe(false);
    expect(proxier.report()).toEqual({ servicePorts: 0, rules: 1, inSync: false, error: 'nft: Operation not permitted' });
    refuse = false;
    await clock.advance(2000);
    expect(await proxier.sync(true)).toBe(true);
    expect(proxier.report()).toEqual({ lastSyncTime: 7000, servicePorts: 0, rules: 1, inSync: true });
    const { changed } = catalog.setService('shop/web', web(eps('10.1.0.5')));
    proxier.setState(catalog.state, changed);
    expect(proxier.report().inSync).toBe(false);
    await clock.advance(1000);
    expect(await proxier.sync(false)).toBe(true);
    expect(proxier.report()).toEqual({ lastSyncTime: 8000, servicePorts: 1, rules: 3, inSync: true });
    await proxier.stop();
  });
});
