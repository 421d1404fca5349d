import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { podMetrics } from './metrics.js';

describe('podMetrics', () => {
  it('counts pods by the phase each last reported, every phase present, and drops a pod that is gone', async () => {
    const registry = new Registry();
    const m = podMetrics(registry);
    m.phases.set('shop/web-0', 'Pending');
    m.phases.set('shop/web-1', 'Running');
    m.phases.set('shop/web-0', 'Running');
    m.phases.set('shop/job-0', 'Failed');
    let text = await registry.metrics();
    expect(text).toContain('shopfloor_agent_pods{phase="Running"} 2');
    expect(text).toContain('shopfloor_agent_pods{phase="Failed"} 1');
    expect(text).toContain('shopfloor_agent_pods{phase="Pending"} 0');
    expect(text).toContain('shopfloor_agent_pods{phase="Succeeded"} 0');
    m.phases.forget('shop/web-1');
    text = await registry.metrics();
    expect(text).toContain('shopfloor_agent_pods{phase="Running"} 1');
  });

  it('counts container restarts per pod and container, and removes a pod\'s series when it goes', async () => {
    const registry = new Registry();
    const m = podMetrics(registry);
    m.containerRestarts.inc('shop/web-0', 'app');
    m.containerRestarts.inc('shop/web-0', 'app');
    m.containerRestarts.inc('shop/web-0', 'sidecar');
    m.containerRestarts.inc('shop/web-1', 'app');
    let text = await registry.metrics();
    expect(text).toContain('shopfloor_agent_container_restarts_total{namespace="shop",pod="web-0",container="app"} 2');
    expect(text).toContain('shopfloor_agent_container_restarts_total{namespace="shop",pod="web-0",container="sidecar"} 1');
    m.containerRestarts.forget('shop/web-0');
    text = await registry.metrics();
    expect(text).not.toContain('pod="web-0"');
    expect(text).toContain('shopfloor_agent_container_restarts_total{namespace="shop",pod="web-1",container="app"} 1');
  });

  it('gives every caller on one registry the same metrics', () => {
    const registry = new Registry();
    expect(podMetrics(registry)).toBe(podMetrics(registry));
    expect(podMetrics(new Registry())).not.toBe(podMetrics(registry));
  });
});
