// The chart's RBAC grants each binary exactly what its code calls: api-access.ts (the grants,
// written out) equals the calls api-calls.ts reads from the code of `shopfloor operator` and
// `shopfloor agent`, and equals the Roles and ClusterRoles the chart renders, bound to the
// binary's own ServiceAccount and to nothing else.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { API_ACCESS, type Access, type Scope } from './api-access.js';
import { apiCallsOf, permissionKey, type ApiCall } from './api-calls.js';
import { DEFAULTS, EXISTING_SERVICE_ACCOUNTS, FLOOR_OFF, LOG_SERVER_OFF, NAMESPACE, render, type RenderedObject, type ValueSet } from './chart.js';
import { sourceProgram, type SourceProgram } from './source-graph.js';

type Component = keyof typeof API_ACCESS;
const COMPONENTS = Object.keys(API_ACCESS) as Component[];

const scoped = (scope: Scope, p: { group: string; resource: string; verb: string }): string => `${scope} ${permissionKey(p)}`;

function expand(access: readonly Access[], values: Record<string, unknown> = {}): string[] {
  return access
    .filter((a) => !a.onlyWith || values[a.onlyWith] !== false)
    .flatMap((a) => a.verbs.map((verb) => scoped(a.scope, { group: a.group, resource: a.resource, verb })))
    .sort();
}

/** What a component's rendered Role and ClusterRole grant, rule by rule expanded. */
function rendered(objects: readonly RenderedObject[], component: Component): string[] {
  const grants: string[] = [];
  for (const [kind, scope] of [['ClusterRole', 'cluster'], ['Role', 'namespace']] as const) {
    const roles = objects.filter((o) => o.kind === kind && o.metadata.name.endsWith(`-${component}`)) as unknown as IClusterRole[];
    expect(roles).toHaveLength(1);
    const role = roles[0]!;
    expect(role.aggregationRule).toBeUndefined();
    for (const rule of role.rules ?? []) {
      expect(rule.resourceNames).toBeUndefined();
      expect(rule.nonResourceURLs).toBeUndefined();
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs) {
            if ([group, resource, verb].includes('*')) throw new Error(`${kind} ${role.metadata?.name} grants a wildcard: ${group} ${resource} ${verb}`);
            grants.push(scoped(scope, { group, resource, verb }));
          }
        }
      }
    }
  }
  return grants.sort();
}

function describeDifference(derived: ApiCall[], table: readonly string[]): string {
  const calls = new Map<string, string[]>();
  for (const c of derived) calls.set(permissionKey(c), [...(calls.get(permissionKey(c)) ?? []), c.at]);
  const granted = new Set(table.map((t) => t.slice(t.indexOf(' ') + 1)));
  const missing = [...calls].filter(([k]) => !granted.has(k)).map(([k, at]) => `  called, not in api-access.ts: ${k} (${at.join('; ')})`);
  const unused = [...granted].filter((k) => !calls.has(k)).map((k) => `  in api-access.ts, called nowhere: ${k}`);
  return [...missing, ...unused].join('\n');
}

describe('the RBAC of the chart', () => {
  let program: SourceProgram;
  beforeAll(() => {
    program = sourceProgram(COMPONENTS.map((c) => API_ACCESS[c].entry));
  });

  it.each(COMPONENTS)('api-access.ts grants the %s exactly the API calls its code makes', (component) => {
    const derived = apiCallsOf(program, API_ACCESS[component].entry);
    const table = expand(API_ACCESS[component].access);
    const difference = describeDifference(derived, table);
    if (difference) throw new Error(`the ${component}'s grants and its code disagree; change the code or test/chart/api-access.ts and templates/${component}-rbac.yaml together:\n${difference}`);
    expect(new Set(derived.map(permissionKey))).toEqual(new Set(table.map((t) => t.slice(t.indexOf(' ') + 1))));
  }, 120_000);

  it.each(COMPONENTS.flatMap((c) => [DEFAULTS, LOG_SERVER_OFF, FLOOR_OFF].map((set) => [c, set.name, set] as [Component, string, ValueSet])))(
    "renders the %s's Role and ClusterRole as api-access.ts says, with %s",
    async (component, _name, set) => {
      expect(rendered(await render(set), component)).toEqual(expand(API_ACCESS[component].access, set.values));
    },
  );

  it.each([DEFAULTS, EXISTING_SERVICE_ACCOUNTS].map((s) => [s.name, s] as [string, ValueSet]))("binds each role to its own component's ServiceAccount only, with %s", async (_name, set) => {
    const objects = await render(set);
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') as unknown as IClusterRoleBinding[];
    expect(bindings).toHaveLength(2 * COMPONENTS.length);
    for (const binding of bindings) {
      const component = COMPONENTS.find((c) => binding.metadata!.name!.endsWith(`-${c}`))!;
      const serviceAccount = (objects.find((o) => (o.kind === 'Deployment' || o.kind === 'DaemonSet') && o.metadata.name.endsWith(`-${component}`)) as unknown as { spec: { template: { spec: { serviceAccountName: string } } } }).spec.template.spec.serviceAccountName;
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: binding.kind.replace('Binding', ''), name: binding.metadata!.name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: serviceAccount, namespace: NAMESPACE }]);
    }
  });
});
