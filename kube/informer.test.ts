import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { KubeClient } from './client.js';
import { Informer } from './informer.js';
import { unreachableKubeConfig } from './test-fixtures.js';

const kc = unreachableKubeConfig();
const resource = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };

describe('Informer options', () => {
  it('names the option that is out of range or missing', () => {
    const client = new KubeClient(kc);
    expect(() => new Informer({ client, resource, pageSize: 0 })).toThrow('informer configmaps: pageSize must be a positive number, got 0');
    expect(() => new Informer({ client, resource, watchdogMs: -1 })).toThrow(/watchdogMs must be a positive number/);
    expect(() => new Informer({ client, resource, registry: new Registry() })).toThrow("informer configmaps: metricsPrefix is required with registry; give the binary's prefix, e.g. shopfloor_agent");
  });

  it('is not synced before it has listed, and waitForSync gives up when stopped', async () => {
    const informer = new Informer({ client: new KubeClient(kc), resource });
    expect(informer.hasSynced()).toBe(false);
    const waiting = informer.waitForSync();
    await informer.stop();
    expect(await waiting).toBe(false);
  });
});
