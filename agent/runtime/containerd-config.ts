// What a managed containerd is given: the file layout of its data dir, its config.toml (version 2
// for containerd 1.x, version 3 for 2.x) and the CNI conflist for the node's pod CIDR. Pure:
// inputs are checked, text is returned.
import { isAbsolute, join } from 'node:path';
import type { ContainerdConfigVersion } from './containerd-version.js';

/** A CRI runtime handler (a RuntimeClass's `handler`): runc v2 shim running `binaryName`. */
export interface RuntimeHandler {
  name: string;
  /** The OCI runtime binary the shim runs; default: the shim's own default, runc. */
  binaryName?: string;
}

/** Every file and dir a managed containerd uses, all under its data dir. */
export interface ContainerdPaths {
  dataDir: string;
  config: string;
  socket: string;
  ttrpcSocket: string;
  root: string;
  state: string;
  opt: string;
  /** The OCI runtime's state (runc/crun `--root`; the shim adds the namespace, k8s.io). */
  runtimeRoot: string;
  cniConfDir: string;
  conflist: string;
  cniIpamDir: string;
  log: string;
  pidFile: string;
}

export interface ContainerdConfigInput {
  /** The layout the containerd that reads it expects (configVersionFor its version). */
  configVersion: ContainerdConfigVersion;
  dataDir: string;
  /** The pod sandbox ("pause") image; it must already be in containerd, nothing is pulled. */
  sandboxImage: string;
  /** The first is the default; names are DNS labels. */
  runtimeHandlers: readonly RuntimeHandler[];
  /**
   * CRI keeps containers from lowering their oom_score_adj below containerd's own. Default true:
   * where the agent may not lower it (a container, an unprivileged sandbox), RunPodSandbox
   * fails with "can't get final child's PID from pipe: EOF" without it.
   */
  restrictOomScoreAdj?: boolean;
  /** Where the CNI plugin binaries are; default Debian's /usr/lib/cni. */
  cniBinDir?: string;
}

export interface CniConflistInput {
  dataDir: string;
  /** The node's pod CIDR, an IPv4 network such as 10.88.0.0/24. */
  podCIDR: string;
  /** The Linux bridge pods attach to, e.g. sf0. */
  bridgeName: string;
}

export const CNI_NETWORK_NAME = 'shopfloor';
export const DEFAULT_CNI_BIN_DIR = '/usr/lib/cni';
/** sun_path is 108 bytes on Linux, one of them the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export function containerdPaths(dataDir: string): ContainerdPaths {
  checkAbsolute('dataDir', dataDir);
  const cniConfDir = join(dataDir, 'cni');
  const paths: ContainerdPaths = {
    dataDir,
    config: join(dataDir, 'containerd.toml'),
    socket: join(dataDir, 'containerd.sock'),
    ttrpcSocket: join(dataDir, 'containerd.sock.ttrpc'),
    root: join(dataDir, 'root'),
    state: join(dataDir, 'state'),
    opt: join(dataDir, 'opt'),
    runtimeRoot: join(dataDir, 'runc'),
    cniConfDir,
    conflist: join(cniConfDir, '10-shopfloor.conflist'),
    cniIpamDir: join(dataDir, 'cni-ipam'),
    log: join(dataDir, 'containerd.log'),
    pidFile: join(dataDir, 'containerd.pid'),
  };
  const longest = Buffer.byteLength(paths.ttrpcSocket);
  if (longest > MAX_SOCKET_PATH) {
    throw new Error(`dataDir "${dataDir}" is too long: its socket ${paths.ttrpcSocket} would be ${longest} bytes, and a unix socket path holds at most ${MAX_SOCKET_PATH}; choose a shorter data dir`);
  }
  return paths;
}

/** Throws unless `input` makes a config (its error names the field); renders nothing. */
export function checkContainerdConfigInput(input: Omit<ContainerdConfigInput, 'configVersion'>): void {
  containerdPaths(input.dataDir);
  if (input.sandboxImage.trim() === '') throw new Error('sandboxImage is empty; give the image reference of the pod sandbox, e.g. shopfloor.dev/pause:test');
  checkAbsolute('cniBinDir', input.cniBinDir ?? DEFAULT_CNI_BIN_DIR);
  checkHandlers(input.runtimeHandlers);
}

/** containerd's config.toml for `input.dataDir`: its own root, state and sockets, CRI on the pod network; the same settings in either layout. */
export function renderContainerdConfig(input: ContainerdConfigInput): string {
  checkContainerdConfigInput(input);
  const p = containerdPaths(input.dataDir);
  const cniBinDir = input.cniBinDir ?? DEFAULT_CNI_BIN_DIR;
  const v3 = input.configVersion === 3;
  // Where the CRI runtime's settings (pod security, runtimes, CNI) live: version 3 moved them out
  // of the one CRI plugin, the sandbox image into the images plugin, streaming into the server's.
  const cri = v3 ? 'plugins."io.containerd.cri.v1.runtime"' : 'plugins."io.containerd.grpc.v1.cri"';
  const streaming = ['  stream_server_address = "127.0.0.1"', '  stream_server_port = "0"'];
  const lines = [
    `version = ${input.configVersion}`,
    `root = ${tomlString(p.root)}`,
    `state = ${tomlString(p.state)}`,
    '',
    '[grpc]',
    `  address = ${tomlString(p.socket)}`,
    '',
    '[ttrpc]',
    `  address = ${tomlString(p.ttrpcSocket)}`,
    '',
    // No debug or metrics listener: the agent serves the node's metrics itself.
    '[debug]',
    '  address = ""',
    '',
    '[metrics]',
    '  address = ""',
    '',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${tomlString(p.opt)}`,
    '',
    ...(v3
      ? [
          // containerd 2 starts NRI by default, listening on the host-wide /var/run/nri/nri.sock,
          // which the host's own containerd (or a second agent's) would claim as well.
          '[plugins."io.containerd.nri.v1.nri"]',
          '  disable = true',
          '',
          '[plugins."io.containerd.cri.v1.images".pinned_images]',
          `  sandbox = ${tomlString(input.sandboxImage)}`,
          '',
          '[plugins."io.containerd.grpc.v1.cri"]',
          ...streaming,
          '',
          `[${cri}]`,
        ]
      : [`[${cri}]`, `  sandbox_image = ${tomlString(input.sandboxImage)}`]),
    `  restrict_oom_score_adj = ${input.restrictOomScoreAdj ?? true}`,
    // Pod network namespaces are pinned under this containerd's own state dir, not the host's
    // /var/run/netns, so everything it creates is found (and cleaned up) under its data dir.
    '  netns_mounts_under_state_dir = true',
    ...(v3 ? [] : streaming),
    '',
    `  [${cri}.containerd]`,
    `    default_runtime_name = ${tomlString(input.runtimeHandlers[0]!.name)}`,
  ];
  for (const handler of input.runtimeHandlers) {
    lines.push('', `    [${cri}.containerd.runtimes.${handler.name}]`, '      runtime_type = "io.containerd.runc.v2"');
    lines.push(`      [${cri}.containerd.runtimes.${handler.name}.options]`);
    if (handler.binaryName !== undefined) lines.push(`        BinaryName = ${tomlString(handler.binaryName)}`);
    // The shim's default, /run/containerd/runc, would be shared with every other containerd
    // of the host (a second agent's among them).
    lines.push(`        Root = ${tomlString(p.runtimeRoot)}`);
  }
  const binDir = v3 ? `bin_dirs = [${tomlString(cniBinDir)}]` : `bin_dir = ${tomlString(cniBinDir)}`;
  lines.push('', `  [${cri}.cni]`, `    ${binDir}`, `    conf_dir = ${tomlString(p.cniConfDir)}`, '');
  return lines.join('\n');
}

/** The CNI conflist: a bridge with host-local IPAM over the pod CIDR, portmap for hostPorts, loopback. */
export function renderCniConflist(input: CniConflistInput): string {
  const p = containerdPaths(input.dataDir);
  validatePodCidr('podCIDR', input.podCIDR);
  if (!/^[a-z0-9-]{1,15}$/.test(input.bridgeName)) {
    throw new Error(`bridgeName "${input.bridgeName}" is not allowed: use 1 to 15 characters of a-z, 0-9 and '-' (a Linux interface name)`);
  }
  const conflist = {
    cniVersion: '1.0.0',
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: input.bridgeName,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: input.podCIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: p.cniIpamDir },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'loopback' },
    ],
  };
  return `${JSON.stringify(conflist, null, 2)}\n`;
}

/** A TOML basic string: quotes, backslashes and control characters escaped. */
export function tomlString(value: string): string {
  const short: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
  // eslint-disable-next-line no-control-regex
  const escaped = value.replace(/["\\\u0000-\u001f\u007f]/g, (c) => short[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${escaped}"`;
}

function checkAbsolute(field: string, path: string): void {
  if (!isAbsolute(path)) throw new Error(`${field} "${path}" must be an absolute path`);
}

function checkHandlers(handlers: readonly RuntimeHandler[]): void {
  if (handlers.length === 0) throw new Error('runtimeHandlers is empty; give at least one, e.g. [{ name: "runc" }]');
  const seen = new Set<string>();
  for (const h of handlers) {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(h.name)) {
      throw new Error(`runtimeHandlers: name "${h.name}" is not allowed: use a DNS label (a-z, 0-9 and '-', at most 63, starting and ending with a letter or digit)`);
    }
    if (seen.has(h.name)) throw new Error(`runtimeHandlers: "${h.name}" is listed twice`);
    seen.add(h.name);
    if (h.binaryName !== undefined) checkAbsolute(`runtimeHandlers: binaryName of "${h.name}"`, h.binaryName);
  }
}

/** Throws unless `cidr` is an IPv4 network host-local can hand out; the error names `field` (a flag, an option). */
export function validatePodCidr(field: string, cidr: string): void {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : NaN;
  const allowed = 'an IPv4 network like 10.88.0.0/24: four octets 0-255 without leading zeros, a prefix from 8 to 30, no host bits set';
  if (!m || octets.some((o) => o > 255) || !(prefix >= 8 && prefix <= 30)) throw new Error(`${field} "${cidr}" is not ${allowed}`);
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - prefix);
  if (address % hostBits !== 0) throw new Error(`${field} "${cidr}" has host bits set; ${allowed}`);
}
