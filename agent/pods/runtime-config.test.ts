import { describe, expect, it } from '@jest/globals';
import { LABEL_MANAGED_BY, LABEL_NODE, LABEL_WORKLOAD, MANAGED_BY_VALUE, templateSchema, type Container, type TemplateInput } from '../../api/index.js';
import { containerConfig, containerLogPath, linuxResources, podLogDirectory, sandboxConfig } from './runtime-config.js';
import { ANNOTATION_GRACE_PERIOD, ANNOTATION_RESTART_COUNT, ANNOTATION_REVISION, LABEL_ASSIGNMENT_NAME, LABEL_ASSIGNMENT_NAMESPACE, LABEL_ASSIGNMENT_UID, LABEL_CONTAINER_NAME, assignmentKeyOf, type PodIdentity } from './runtime-labels.js';

const pod: PodIdentity = { namespace: 'shop', name: 'web-0', uid: '6f1c2d3e-0000-4000-8000-000000000001', workload: 'web' };
const NODE = 'node-1';

const podLabels = {
  [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
  [LABEL_NODE]: NODE,
  [LABEL_WORKLOAD]: 'web',
  [LABEL_ASSIGNMENT_NAMESPACE]: 'shop',
  [LABEL_ASSIGNMENT_NAME]: 'web-0',
  [LABEL_ASSIGNMENT_UID]: pod.uid,
  'io.kubernetes.pod.namespace': 'shop',
  'io.kubernetes.pod.name': 'web-0',
  'io.kubernetes.pod.uid': pod.uid,
};

function template(over: Partial<TemplateInput> = {}) {
  return templateSchema.parse({ containers: [{ name: 'app', image: 'shopfloor.dev/app:1' }], ...over });
}

function config(t = template(), o: { restartCount?: number; volumePaths?: Map<string, string>; container?: Container } = {}) {
  return containerConfig({
    pod,
    nodeName: NODE,
    template: t,
    container: o.container ?? t.containers[0]!,
    restartCount: o.restartCount ?? 0,
    imageRef: 'sha256:0123abcd',
    volumePaths: o.volumePaths ?? new Map(),
  });
}

describe('linuxResources', () => {
  it.each<[string, Container['resources'], ReturnType<typeof linuxResources>]>([
    ['no resources: the least shares, no quota, no memory limit', undefined, { cpuShares: 2 }],
    ['empty resources', {}, { cpuShares: 2 }],
    ['a cpu request of 250m: 256 shares', { requests: { cpu: '250m' } }, { cpuShares: 256 }],
    ['a cpu request of 1 core: 1024 shares', { requests: { cpu: 1 } }, { cpuShares: 1024 }],
    ['a cpu request of 1m: still the least shares', { requests: { cpu: '1m' } }, { cpuShares: 2 }],
    ['a cpu limit of 500m: a 50 ms quota of a 100 ms period, and the limit as the request', { limits: { cpu: '500m' } }, { cpuShares: 512, cpuPeriod: 100_000, cpuQuota: 50_000 }],
    ['a request and a limit', { requests: { cpu: '250m' }, limits: { cpu: '2' } }, { cpuShares: 256, cpuPeriod: 100_000, cpuQuota: 200_000 }],
    ['a cpu limit of 1m: the least quota the kernel takes', { limits: { cpu: '1m' } }, { cpuShares: 2, cpuPeriod: 100_000, cpuQuota: 1_000 }],
    ['a memory limit of 64Mi', { limits: { memory: '64Mi' } }, { cpuShares: 2, memoryLimitInBytes: 67_108_864 }],
    ['a memory limit of 1G', { limits: { memory: '1G' } }, { cpuShares: 2, memoryLimitInBytes: 1_000_000_000 }],
    ['a memory request alone: no limit', { requests: { memory: '64Mi' } }, { cpuShares: 2 }],
    ['a cpu request above 256 cores: the most shares the kernel takes (kubelet MilliCPUToShares)', { requests: { cpu: 300 } }, { cpuShares: 262_144 }],
  ])('%s', (_name, resources, want) => {
    expect(linuxResources(resources)).toEqual(want);
  });
});

describe('log paths', () => {
  it('puts a pod in <root>/<namespace>_<name>_<uid>', () => {
    expect(podLogDirectory('/var/log/shopfloor/pods', pod)).toBe(`/var/log/shopfloor/pods/shop_web-0_${pod.uid}`);
  });

  it('puts each container instance in <name>/<restartCount>.log', () => {
    expect(containerLogPath('app', 0)).toBe('app/0.log');
    expect(containerLogPath('side', 7)).toBe('side/7.log');
  });
});

describe('sandboxConfig', () => {
  const base = { pod, nodeName: NODE, attempt: 2, revision: 'rev-abc', logDirectory: `/logs/shop_web-0_${pod.uid}` };

  it('names the pod, its attempt, log directory, labels and revision', () => {
    expect(sandboxConfig(base)).toEqual({
      metadata: { name: 'web-0', namespace: 'shop', uid: pod.uid, attempt: 2 },
      hostname: 'web-0',
      logDirectory: `/logs/shop_web-0_${pod.uid}`,
      labels: podLabels,
      annotations: { [ANNOTATION_REVISION]: 'rev-abc' },
      linux: {},
    });
  });

  it('labels the sandbox so that the agent finds it again by assignment key', () => {
    expect(assignmentKeyOf(sandboxConfig(base).labels ?? {})).toBe('shop/web-0');
  });

  it('makes one DNS label of a dotted name for the hostname', () => {
    expect(sandboxConfig({ ...base, pod: { ...pod, name: 'web.shop.example' } }).hostname).toBe('web-shop-example');
  });

  it('cuts a long name to 63 characters without a trailing dash', () => {
    const name = `${'a'.repeat(62)}.b`;
    const hostname = sandboxConfig({ ...base, pod: { ...pod, name } }).hostname ?? '';
    expect(hostname).toBe('a'.repeat(62));
    expect(sandboxConfig({ ...base, pod: { ...pod, name: 'b'.repeat(80) } }).hostname).toBe('b'.repeat(63));
  });
});

describe('containerConfig', () => {
  it('builds the config of a plain container', () => {
    expect(config()).toEqual({
      metadata: { name: 'app', attempt: 0 },
      image: { image: 'sha256:0123abcd', userSpecifiedImage: 'shopfloor.dev/app:1' },
      envs: [],
      mounts: [],
      labels: { ...podLabels, [LABEL_CONTAINER_NAME]: 'app' },
      annotations: { [ANNOTATION_RESTART_COUNT]: '0', [ANNOTATION_GRACE_PERIOD]: '30' },
      logPath: 'app/0.log',
      linux: { resources: { cpuShares: 2 } },
    });
  });

  it('records the restart count as the attempt, in an annotation and in the log path', () => {
    const c = config(template(), { restartCount: 5 });
    expect(c.metadata).toEqual({ name: 'app', attempt: 5 });
    expect(c.annotations?.[ANNOTATION_RESTART_COUNT]).toBe('5');
    expect(c.logPath).toBe('app/5.log');
  });

  it('records the grace period of the template', () => {
    expect(config(template({ terminationGracePeriodSeconds: 5 })).annotations?.[ANNOTATION_GRACE_PERIOD]).toBe('5');
  });

  it('labels the container with the pod and its own name, so that the agent finds it again', () => {
    const labels = config().labels ?? {};
    expect(labels).toEqual({ ...podLabels, [LABEL_CONTAINER_NAME]: 'app' });
    expect(assignmentKeyOf(labels)).toBe('shop/web-0');
  });

  it('passes command, args, env and resources on', () => {
    const t = template({
      containers: [
        {
          name: 'app',
          image: 'shopfloor.dev/app:1',
          command: ['/bin/busybox', 'sh', '-c'],
          args: ['echo $GREETING; sleep 3600'],
          env: [{ name: 'GREETING', value: 'hello' }, { name: 'EMPTY' }],
          resources: { requests: { cpu: '250m', memory: '32Mi' }, limits: { cpu: '500m', memory: '64Mi' } },
        },
      ],
    });
    const c = config(t);
    expect(c.command).toEqual(['/bin/busybox', 'sh', '-c']);
    expect(c.args).toEqual(['echo $GREETING; sleep 3600']);
    expect(c.envs).toEqual([{ key: 'GREETING', value: 'hello' }, { key: 'EMPTY', value: '' }]);
    expect(c.linux).toEqual({ resources: { cpuShares: 256, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitInBytes: 67_108_864 } });
  });

  it('mounts each volume at its host path, read-write unless read-only', () => {
    const t = template({
      volumes: [{ name: 'cache', emptyDir: {} }, { name: 'config', hostPath: { path: '/etc/shop' } }],
      containers: [
        {
          name: 'app',
          image: 'shopfloor.dev/app:1',
          volumeMounts: [
            { name: 'cache', mountPath: '/cache' },
            { name: 'config', mountPath: '/etc/app', readOnly: true },
            { name: 'cache', mountPath: '/tmp/scratch', readOnly: false },
          ],
        },
      ],
    });
    const volumePaths = new Map([
      ['cache', '/var/lib/shopfloor/pods/uid/volumes/cache'],
      ['config', '/etc/shop'],
    ]);
    expect(config(t, { volumePaths }).mounts).toEqual([
      { containerPath: '/cache', hostPath: '/var/lib/shopfloor/pods/uid/volumes/cache', readonly: false },
      { containerPath: '/etc/app', hostPath: '/etc/shop', readonly: true },
      { containerPath: '/tmp/scratch', hostPath: '/var/lib/shopfloor/pods/uid/volumes/cache', readonly: false },
    ]);
  });

  it('throws, naming the container and the volume, when a volume was not prepared', () => {
    const t = template({
      volumes: [{ name: 'cache', emptyDir: {} }],
      containers: [
        { name: 'app', image: 'shopfloor.dev/app:1' },
        { name: 'side', image: 'shopfloor.dev/side:1', volumeMounts: [{ name: 'cache', mountPath: '/cache' }] },
      ],
    });
    expect(() => config(t, { container: t.containers[1]! })).toThrow('containers[side].volumeMounts: volume "cache" was not prepared');
    // The container that mounts nothing needs no volume.
    expect(config(t).mounts).toEqual([]);
  });
});
