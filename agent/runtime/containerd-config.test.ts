import { describe, expect, it } from '@jest/globals';
import { containerdPaths, renderCniConflist, renderContainerdConfig, tomlString } from './containerd-config.js';

const handlers = [{ name: 'runc' }, { name: 'crun', binaryName: '/usr/bin/crun' }];

/** What either config version starts with for /var/lib/sf, after its `version` line. */
const ownPaths = [
  'root = "/var/lib/sf/root"',
  'state = "/var/lib/sf/state"',
  '',
  '[grpc]',
  '  address = "/var/lib/sf/containerd.sock"',
  '',
  '[ttrpc]',
  '  address = "/var/lib/sf/containerd.sock.ttrpc"',
  '',
  '[debug]',
  '  address = ""',
  '',
  '[metrics]',
  '  address = ""',
  '',
  '[plugins."io.containerd.internal.v1.opt"]',
  '  path = "/var/lib/sf/opt"',
  '',
];

describe('renderContainerdConfig', () => {
  it('renders a version 2 config with its own root, state, sockets, CRI, and runtime handlers with their own runtime state', () => {
    expect(renderContainerdConfig({ configVersion: 2, dataDir: '/var/lib/sf', sandboxImage: 'shopfloor.dev/pause:test', runtimeHandlers: handlers })).toBe(
      [
        'version = 2',
        ...ownPaths,
        '[plugins."io.containerd.grpc.v1.cri"]',
        '  sandbox_image = "shopfloor.dev/pause:test"',
        '  restrict_oom_score_adj = true',
        '  netns_mounts_under_state_dir = true',
        '  stream_server_address = "127.0.0.1"',
        '  stream_server_port = "0"',
        '',
        '  [plugins."io.containerd.grpc.v1.cri".containerd]',
        '    default_runtime_name = "runc"',
        '',
        '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
        '      runtime_type = "io.containerd.runc.v2"',
        '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
        '        Root = "/var/lib/sf/runc"',
        '',
        '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]',
        '      runtime_type = "io.containerd.runc.v2"',
        '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]',
        '        BinaryName = "/usr/bin/crun"',
        '        Root = "/var/lib/sf/runc"',
        '',
        '  [plugins."io.containerd.grpc.v1.cri".cni]',
        '    bin_dir = "/usr/lib/cni"',
        '    conf_dir = "/var/lib/sf/cni"',
        '',
      ].join('\n'),
    );
  });

  it('renders the same settings as a version 3 config for containerd 2, CRI split into its images, runtime and server plugins, NRI off', () => {
    expect(renderContainerdConfig({ configVersion: 3, dataDir: '/var/lib/sf', sandboxImage: 'shopfloor.dev/pause:test', runtimeHandlers: handlers })).toBe(
      [
        'version = 3',
        ...ownPaths,
        '[plugins."io.containerd.nri.v1.nri"]',
        '  disable = true',
        '',
        '[plugins."io.containerd.cri.v1.images".pinned_images]',
        '  sandbox = "shopfloor.dev/pause:test"',
        '',
        '[plugins."io.containerd.grpc.v1.cri"]',
        '  stream_server_address = "127.0.0.1"',
        '  stream_server_port = "0"',
        '',
        '[plugins."io.containerd.cri.v1.runtime"]',
        '  restrict_oom_score_adj = true',
        '  netns_mounts_under_state_dir = true',
        '',
        '  [plugins."io.containerd.cri.v1.runtime".containerd]',
        '    default_runtime_name = "runc"',
        '',
        '    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]',
        '      runtime_type = "io.containerd.runc.v2"',
        '      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]',
        '        Root = "/var/lib/sf/runc"',
        '',
        '    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.crun]',
        '      runtime_type = "io.containerd.runc.v2"',
        '      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.crun.options]',
        '        BinaryName = "/usr/bin/crun"',
        '        Root = "/var/lib/sf/runc"',
        '',
        '  [plugins."io.containerd.cri.v1.runtime".cni]',
        '    bin_dirs = ["/usr/lib/cni"]',
        '    conf_dir = "/var/lib/sf/cni"',
        '',
      ].join('\n'),
    );
  });

  it('makes the first handler the default, and lets oom_score_adj restriction and the CNI bin dir be set', () => {
    const input = { dataDir: '/d', sandboxImage: 'p:1', runtimeHandlers: [{ name: 'crun', binaryName: '/usr/bin/crun' }], restrictOomScoreAdj: false, cniBinDir: '/opt/cni/bin' };
    for (const configVersion of [2, 3] as const) {
      const text = renderContainerdConfig({ ...input, configVersion });
      expect(text).toContain('default_runtime_name = "crun"');
      expect(text).not.toContain('runtimes.runc');
      expect(text).toContain('restrict_oom_score_adj = false');
    }
    expect(renderContainerdConfig({ ...input, configVersion: 2 })).toContain('bin_dir = "/opt/cni/bin"');
    expect(renderContainerdConfig({ ...input, configVersion: 3 })).toContain('bin_dirs = ["/opt/cni/bin"]');
  });

  it('escapes strings as TOML basic strings', () => {
    expect(tomlString('plain/path')).toBe('"plain/path"');
    expect(tomlString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(tomlString('tab\tnl\ncr\rbs\bff\f')).toBe('"tab\\tnl\\ncr\\rbs\\bff\\f"');
    expect(tomlString('nul\u0000esc\u001bdel\u007f')).toBe('"nul\\u0000esc\\u001bdel\\u007f"');
    expect(tomlString('ünïcode')).toBe('"ünïcode"');
    const text = renderContainerdConfig({ configVersion: 2, dataDir: '/tmp/a "quoted" dir', sandboxImage: 'p:1', runtimeHandlers: [{ name: 'runc' }] });
    expect(text).toContain('root = "/tmp/a \\"quoted\\" dir/root"');
  });

  it('refuses bad input, naming the field and what is allowed', () => {
    const ok = { configVersion: 3 as const, dataDir: '/d', sandboxImage: 'p:1', runtimeHandlers: handlers };
    expect(() => renderContainerdConfig({ ...ok, dataDir: 'rel/dir' })).toThrow('dataDir "rel/dir" must be an absolute path');
    expect(() => renderContainerdConfig({ ...ok, dataDir: `/${'x'.repeat(90)}` })).toThrow(/dataDir "\/x+" is too long: its socket .* would be 113 bytes, and a unix socket path holds at most 107/);
    expect(() => renderContainerdConfig({ ...ok, sandboxImage: ' ' })).toThrow('sandboxImage is empty');
    expect(() => renderContainerdConfig({ ...ok, cniBinDir: 'cni' })).toThrow('cniBinDir "cni" must be an absolute path');
    expect(() => renderContainerdConfig({ ...ok, runtimeHandlers: [] })).toThrow('runtimeHandlers is empty');
    expect(() => renderContainerdConfig({ ...ok, runtimeHandlers: [{ name: 'Run.C' }] })).toThrow('runtimeHandlers: name "Run.C" is not allowed: use a DNS label');
    expect(() => renderContainerdConfig({ ...ok, runtimeHandlers: [{ name: 'runc' }, { name: 'runc' }] })).toThrow('runtimeHandlers: "runc" is listed twice');
    expect(() => renderContainerdConfig({ ...ok, runtimeHandlers: [{ name: 'crun', binaryName: 'crun' }] })).toThrow('runtimeHandlers: binaryName of "crun" "crun" must be an absolute path');
  });
});

describe('renderCniConflist', () => {
  it('renders bridge with host-local IPAM in the data dir, portmap and loopback', () => {
    expect(JSON.parse(renderCniConflist({ dataDir: '/var/lib/sf', podCIDR: '10.88.7.0/24', bridgeName: 'sf0' }))).toEqual({
      cniVersion: '1.0.0',
      name: 'shopfloor',
      plugins: [
        {
          type: 'bridge',
          bridge: 'sf0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.7.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/var/lib/sf/cni-ipam' },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'loopback' },
      ],
    });
  });

  it('accepts IPv4 networks from /8 to /30', () => {
    for (const cidr of ['10.0.0.0/8', '192.168.255.252/30', '0.0.0.0/8', '172.16.4.0/22']) {
      expect(() => renderCniConflist({ dataDir: '/d', podCIDR: cidr, bridgeName: 'sf0' })).not.toThrow();
    }
  });

  it('refuses a malformed pod CIDR, a bad bridge name or a relative data dir, saying what is allowed', () => {
    for (const cidr of ['10.88.7.0', '10.88.7.0/33', '10.88.7.0/31', '10.0.0.0/7', '256.0.0.0/8', '10.088.7.0/24', 'fd00::/64', ' 10.88.7.0/24']) {
      expect(() => renderCniConflist({ dataDir: '/d', podCIDR: cidr, bridgeName: 'sf0' })).toThrow(`podCIDR "${cidr}" is not an IPv4 network like 10.88.0.0/24`);
    }
    expect(() => renderCniConflist({ dataDir: '/d', podCIDR: '10.88.7.1/24', bridgeName: 'sf0' })).toThrow('podCIDR "10.88.7.1/24" has host bits set');
    for (const name of ['', 'SF0', 'sf_0', 'a'.repeat(16), 'sf 0']) {
      expect(() => renderCniConflist({ dataDir: '/d', podCIDR: '10.88.7.0/24', bridgeName: name })).toThrow(`bridgeName "${name}" is not allowed: use 1 to 15 characters of a-z, 0-9 and '-'`);
    }
    expect(() => renderCniConflist({ dataDir: 'd', podCIDR: '10.88.7.0/24', bridgeName: 'sf0' })).toThrow('dataDir "d" must be an absolute path');
  });
});

describe('containerdPaths', () => {
  it('keeps everything under the data dir', () => {
    const p = containerdPaths('/var/lib/sf');
    for (const path of Object.values(p)) expect(path.startsWith('/var/lib/sf')).toBe(true);
    expect(p.conflist).toBe('/var/lib/sf/cni/10-shopfloor.conflist');
  });
});
