// values.schema.json as users meet it: `helm template` and `helm lint` refuse a wrong value with
// a message naming the field, before anything reaches a cluster; what the schema refuses for a
// flag, the binary refuses too, and what it accepts, the binary accepts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { PROXY_MODES } from '../../agent/proxy/backend.js';
import { parseAgentFlags } from '../../cli/agent.js';
import { parseOperatorFlags } from '../../cli/operator.js';
import { LOG_LEVELS } from '../../kube/logger.js';
import { CHART_DIR, NAMESPACE, helm, template, valueFlags, type ValueSet } from './chart.js';

interface Bad {
  values: Record<string, unknown>;
  /** What helm's message says: the field's JSON pointer and why. */
  says: string;
  /** The same value given to the binary's flag, which must refuse it too. */
  flag?: { command: 'operator' | 'agent'; argv: string[] };
}

const BAD: Record<string, Bad> = {
  'an unknown proxy mode': { values: { 'agent.proxyMode': 'ipvs' }, says: "at '/agent/proxyMode': value must be one of 'nftables', 'iptables'", flag: { command: 'agent', argv: ['--proxy-mode=ipvs'] } },
  'an unknown runtime': { values: { 'agent.runtime': 'containerd' }, says: "at '/agent/runtime': value must be one of 'managed', 'external'" },
  'an external runtime without its endpoint': { values: { 'agent.runtime': 'external' }, says: "at '/agent/criEndpoint': minLength: got 0, want 1" },
  'a CRI endpoint that is not unix:///': { values: { 'agent.runtime': 'external', 'agent.criEndpoint': '/run/containerd/containerd.sock' }, says: "at '/agent/criEndpoint': '/run/containerd/containerd.sock' does not match pattern", flag: { command: 'agent', argv: ['--cri-endpoint=/run/containerd/containerd.sock'] } },
  'a CRI endpoint with the managed runtime': { values: { 'agent.criEndpoint': 'unix:///run/containerd/containerd.sock' }, says: "at '/agent/criEndpoint': maxLength: got 38, want 0" },
  'a VIP range without a prefix': { values: { 'operator.vipCIDR': '10.250.0.0' }, says: "at '/operator/vipCIDR': '10.250.0.0' does not match pattern", flag: { command: 'operator', argv: ['--vip-cidr=10.250.0.0'] } },
  'a VIP range with a prefix over 30': { values: { 'operator.vipCIDR': '10.250.0.0/31' }, says: "at '/operator/vipCIDR': '10.250.0.0/31' does not match pattern", flag: { command: 'operator', argv: ['--vip-cidr=10.250.0.0/31'] } },
  'a pod range with an octet over 255': { values: { 'agent.podCIDR': '10.300.0.0/24' }, says: "at '/agent/podCIDR': '10.300.0.0/24' does not match pattern", flag: { command: 'agent', argv: ['--pod-cidr=10.300.0.0/24'] } },
  'a pod range that is neither a range nor allocated': { values: { 'agent.podCIDR': 'auto' }, says: "at '/agent/podCIDR': 'auto' does not match pattern", flag: { command: 'agent', argv: ['--pod-cidr=auto'] } },
  'a cluster pod range without a prefix': { values: { 'operator.clusterPodCIDR': '10.245.0.0' }, says: "at '/operator/clusterPodCIDR': '10.245.0.0' does not match pattern", flag: { command: 'operator', argv: ['--cluster-pod-cidr=10.245.0.0'] } },
  'a node range size over 30': { values: { 'operator.nodeCIDRMaskSize': 31 }, says: "at '/operator/nodeCIDRMaskSize': maximum: got 31, want 30", flag: { command: 'operator', argv: ['--cluster-pod-cidr=10.245.0.0/16', '--node-cidr-mask-size=31'] } },
  'a pod range of IPv6': { values: { 'agent.podCIDR': 'fd00::/64' }, says: "at '/agent/podCIDR': 'fd00::/64' does not match pattern", flag: { command: 'agent', argv: ['--pod-cidr=fd00::/64'] } },
  'an unknown log level': { values: { logLevel: 'verbose' }, says: "at '/logLevel': value must be one of 'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'", flag: { command: 'operator', argv: ['--log-level=verbose'] } },
  'a misspelt field': { values: { 'agent.proxymode': 'iptables' }, says: "at '/agent': additional properties 'proxymode' not allowed" },
  'a misspelt top-level field': { values: { serviceMonitor: { enabled: true } }, says: "additional properties 'serviceMonitor' not allowed" },
  'a string for a boolean': { values: { 'metrics.serviceMonitor.enabled': 'yes' }, says: "at '/metrics/serviceMonitor/enabled': got string, want boolean" },
  'no operator replicas': { values: { 'operator.replicas': 0 }, says: "at '/operator/replicas': minimum: got 0, want 1" },
  'two operators without leader election': { values: { 'operator.leaderElection.enabled': false }, says: "at '/operator/replicas': maximum: got 2, want 1" },
  'a port out of range': { values: { 'operator.metrics.port': 70000 }, says: "at '/operator/metrics/port': maximum: got 70,000, want 65,535" },
  'a relative data dir': { values: { 'agent.dataDir': 'var/lib/shopfloor' }, says: "at '/agent/dataDir': 'var/lib/shopfloor' does not match pattern", flag: { command: 'agent', argv: ['--data-dir=var/lib/shopfloor'] } },
  'an unknown pull policy': { values: { 'operator.image.pullPolicy': 'Sometimes' }, says: "at '/operator/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'" },
  'an image with its tag in the repository': { values: { 'agent.image.repository': 'shopfloor.dev/agent:0.1.0' }, says: "at '/agent/image/repository': 'shopfloor.dev/agent:0.1.0' does not match pattern" },
  'an extra argument that is no flag': { values: { 'agent.extraArgs': ['-v'] }, says: "at '/agent/extraArgs/0': '-v' does not match pattern" },
  'a memory limit that is no quantity': { values: { 'operator.resources': { limits: { memory: 'lots' } } }, says: "at '/operator/resources/limits/memory'" },
  'an unknown update strategy': { values: { 'agent.updateStrategy': { type: 'AllAtOnce' } }, says: "at '/agent/updateStrategy/type': value must be one of 'RollingUpdate', 'OnDelete'" },
};

function binaryRefuses(flag: NonNullable<Bad['flag']>): void {
  const parse = flag.command === 'operator' ? () => parseOperatorFlags(flag.argv, {}) : () => parseAgentFlags(flag.argv, { NODE_NAME: 'node-a' }, { hostname: 'host-a', addresses: () => ['192.0.2.10'] });
  expect(parse).toThrow();
}

const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as {
  properties: { logLevel: { enum: string[] }; agent: { properties: { proxyMode: { enum: string[] } } } };
};

describe('values.schema.json', () => {
  it.each(Object.entries(BAD))('refuses %s in helm template and helm lint, naming the field', async (_what, bad) => {
    const set: ValueSet = { name: _what, values: bad.values };
    const rendered = await template(set);
    expect(rendered.code).not.toBe(0);
    expect(rendered.stderr).toContain("values don't meet the specifications of the schema(s)");
    expect(rendered.stderr).toContain(bad.says);
    const linted = await helm(['lint', '--strict', CHART_DIR, '--namespace', NAMESPACE, ...valueFlags(set)]);
    expect(linted.code).not.toBe(0);
    expect(linted.stdout + linted.stderr).toContain(bad.says);
    if (bad.flag) binaryRefuses(bad.flag);
  });

  it.each([
    ['operator.vipCIDR', '10.0.0.0/8', ['operator', '--vip-cidr=10.0.0.0/8']],
    ['operator.vipCIDR', '192.168.255.252/30', ['operator', '--vip-cidr=192.168.255.252/30']],
    ['agent.podCIDR', '172.16.0.0/12', ['agent', '--pod-cidr=172.16.0.0/12']],
    ['operator.clusterPodCIDR', '172.20.0.0/14', ['operator', '--cluster-pod-cidr=172.20.0.0/14']],
    ['agent.criEndpoint', 'unix:///var/run/crio/crio.sock', ['agent', '--cri-endpoint=unix:///var/run/crio/crio.sock']],
  ] as const)('accepts %s %s, as the binary does', async (path, value, [command, flag]) => {
    const values: Record<string, unknown> = { [path]: value, ...(path === 'agent.criEndpoint' ? { 'agent.runtime': 'external' } : {}) };
    const r = await template({ name: `${path}=${value}`, values });
    if (r.code !== 0) throw new Error(r.stderr);
    if (command === 'operator') expect(() => parseOperatorFlags([flag], {})).not.toThrow();
    else expect(() => parseAgentFlags([flag], { NODE_NAME: 'node-a' }, { hostname: 'host-a', addresses: () => ['192.0.2.10'] })).not.toThrow();
  });

  it("allows the binaries' own log levels and proxy modes, no others", () => {
    expect(schema.properties.logLevel.enum).toEqual([...LOG_LEVELS]);
    expect(schema.properties.agent.properties.proxyMode.enum).toEqual([...PROXY_MODES]);
  });
});
