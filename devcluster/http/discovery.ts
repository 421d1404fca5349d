import { groupVersion, subresourcesOf, type Registry, type ResourceInfo } from '../objects/registry.js';

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const versionInfo = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-shopfloor-devcluster',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'none',
  compiler: 'none',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

export function apiVersions(address: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }] };
}

function apiGroup(name: string, versions: string[]): Record<string, unknown> {
  const list = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function apiGroupList(registry: Registry): Record<string, unknown> {
  const groups = [...registry.groups().entries()].sort(([a], [b]) => a.localeCompare(b));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(([name, versions]) => apiGroup(name, versions)) };
}

export function apiGroupDocument(registry: Registry, group: string): Record<string, unknown> | undefined {
  const versions = registry.groups().get(group);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) } : undefined;
}

/** The APIResourceList of one group version, or undefined when nothing is served there. */
export function apiResourceList(registry: Registry, group: string, version: string): Record<string, unknown> | undefined {
  const served = registry.all().filter((i) => i.group === group && i.versions.some((v) => v.name === version && v.served));
  if (served.length === 0) return undefined;
  const resources = served.sort((a, b) => a.resource.localeCompare(b.resource)).flatMap((info) => resourceEntries(info, version));
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(group, version), resources };
}

function resourceEntries(info: ResourceInfo, version: string): Record<string, unknown>[] {
  const v = info.versions.find((x) => x.name === version);
  const main = {
    name: info.resource,
    singularName: info.singular,
    namespaced: info.namespaced,
    kind: info.kind,
    verbs: info.review ? ['create'] : verbs,
    ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
    ...(info.categories.length ? { categories: info.categories } : {}),
  };
  const out: Record<string, unknown>[] = [main];
  for (const sub of subresourcesOf(info, v)) {
    // A subresource of another kind says its group and version, so that clients (kubectl scale) know what to send.
    const kind = sub.kind ? { group: sub.kind.group, version: sub.kind.version, kind: sub.kind.kind } : { kind: info.kind };
    out.push({ name: `${info.resource}/${sub.name}`, singularName: '', namespaced: info.namespaced, ...kind, verbs: sub.verbs });
  }
  return out;
}
