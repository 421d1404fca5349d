import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { systemClock } from '../../kube/clock.js';
import { silentLogger } from '../../kube/logger.js';
import type { ProxyBackend } from './backend.js';
import type { Runner } from '../exec.js';
import { proxyMetrics } from './metrics.js';
import { Proxier } from './proxier.js';
import { buildProxyState } from './service-catalog.js';
import { dns, eps } from './test-fixtures.js';

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
    expect(await registry.metrics()).toContain('shopfloor_proxy_conntrack_cleanup_failures_total 1');
    proxier.setState(buildProxyState([dns([])], []).state);
    expect(await proxier.sync(false)).toBe(true);
    await proxier.stop();
  });
});
