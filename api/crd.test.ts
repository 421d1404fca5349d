import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { parse } from 'yaml';
import { z } from 'zod';
import { CrdSchemaError, crdFileName, crdYaml, customResourceDefinition, customResourceDefinitions, openAPIV3Schema, structuralSchema, type JSONSchemaProps } from './crd.js';

const crdDir = new URL('../crds/', import.meta.url);

/** Every schema node with its path, depth first. */
function* walk(s: JSONSchemaProps, path: string): Generator<[string, JSONSchemaProps]> {
  yield [path, s];
  for (const [k, v] of Object.entries(s.properties ?? {})) yield* walk(v, `${path}.${k}`);
  if (s.items) yield* walk(s.items, `${path}[]`);
  if (s.additionalProperties) yield* walk(s.additionalProperties, `${path}.*`);
}

describe('crds/', () => {
  it('holds exactly what `npm run gen:crds` writes (run it after changing api/)', () => {
    const expected = new Map(customResourceDefinitions().map((c) => [crdFileName(c), crdYaml(c)]));
    const onDisk = readdirSync(crdDir).filter((f) => f.endsWith('.yaml'));
    expect(onDisk.sort()).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) {
      const actual = readFileSync(new URL(name, crdDir), 'utf8');
      if (actual !== text) throw new Error(`crds/${name} is not what the generator writes: run \`npm run gen:crds\` and commit crds/`);
    }
  });

  it('round-trips through YAML to the same objects', () => {
    for (const c of customResourceDefinitions()) expect(parse(crdYaml(c))).toEqual(JSON.parse(JSON.stringify(c)));
  });
});

describe('customResourceDefinition', () => {
  it.each(['NodeWorkload', 'NodeAssignment', 'NodeAgent'] as const)('%s validates against the Kubernetes CustomResourceDefinition schema', (kind) => {
    const crd = new CustomResourceDefinition(customResourceDefinition(kind) as ConstructorParameters<typeof CustomResourceDefinition>[0]);
    expect(() => crd.validate()).not.toThrow();
  });

  it('the Kubernetes CRD schema check is live: a CRD without names fails it', () => {
    const { names: _names, ...spec } = customResourceDefinition('NodeWorkload').spec;
    const crd = new CustomResourceDefinition({ ...customResourceDefinition('NodeWorkload'), spec } as unknown as ConstructorParameters<typeof CustomResourceDefinition>[0]);
    expect(() => crd.validate()).toThrow(/names/);
  });

  it('names, scopes, short names, category and the status subresource', () => {
    const nw = customResourceDefinition('NodeWorkload');
    expect(nw.metadata.name).toBe('nodeworkloads.shopfloor.dev');
    expect(nw.spec.scope).toBe('Namespaced');
    expect(nw.spec.names).toEqual({
      kind: 'NodeWorkload',
      listKind: 'NodeWorkloadList',
      plural: 'nodeworkloads',
      singular: 'nodeworkload',
      shortNames: ['nw'],
      categories: ['shopfloor'],
    });
    expect(customResourceDefinition('NodeAssignment').spec.names.shortNames).toEqual(['na']);
    expect(customResourceDefinition('NodeAssignment').spec.scope).toBe('Namespaced');
    expect(customResourceDefinition('NodeAgent').spec.names.shortNames).toEqual(['nag']);
    expect(customResourceDefinition('NodeAgent').spec.scope).toBe('Cluster');
    for (const c of customResourceDefinitions()) {
      expect(c.spec.versions).toHaveLength(1);
      expect(c.spec.versions[0]).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    }
  });

  it('printer columns', () => {
    const columns = (kind: 'NodeWorkload' | 'NodeAssignment' | 'NodeAgent') =>
      customResourceDefinition(kind).spec.versions[0]!.additionalPrinterColumns.map((c) => `${c.name}=${c.jsonPath}`);
    expect(columns('NodeWorkload')).toEqual([
      'Mode=.spec.placement.mode',
      'Desired=.status.desiredReplicas',
      'Ready=.status.readyReplicas',
      'VIP=.status.clusterIP',
      'Age=.metadata.creationTimestamp',
    ]);
    expect(columns('NodeAssignment')).toEqual([
      'Node=.spec.nodeName',
      'Phase=.status.phase',
      'Ready=.status.ready',
      'Restarts=.status.restartCount',
      'IP=.status.podIP',
      'Age=.metadata.creationTimestamp',
    ]);
    expect(columns('NodeAgent')).toEqual([
      'Ready=.status.conditions[?(@.type=="Ready")].status',
      'Runtime=.status.nodeInfo.runtimeName',
      'Proxy=.status.nodeInfo.proxyMode',
      'Pods=.status.pods',
      'Age=.metadata.creationTimestamp',
    ]);
  });

  it('every printer column points at a field of the schema', () => {
    for (const c of customResourceDefinitions()) {
      const root = c.spec.versions[0]!.schema.openAPIV3Schema;
      for (const col of c.spec.versions[0]!.additionalPrinterColumns) {
        if (col.jsonPath.startsWith('.metadata.')) continue;
        const steps = col.jsonPath.replace(/\[\?.*?\]/, '[]').slice(1).split('.');
        let node: JSONSchemaProps | undefined = root;
        for (const step of steps) {
          node = step.endsWith('[]') ? node?.properties?.[step.slice(0, -2)]?.items : node?.properties?.[step];
        }
        expect([c.spec.names.kind, col.name, node?.type]).toEqual([c.spec.names.kind, col.name, col.type === 'date' ? 'string' : col.type]);
      }
    }
  });
});

describe('openAPIV3Schema is structural', () => {
  it.each(['NodeWorkload', 'NodeAssignment', 'NodeAgent'] as const)('%s', (kind) => {
    const root = openAPIV3Schema(kind);
    // Exactly this: the API server refuses anything more on metadata, even a description.
    expect(root.properties?.metadata).toEqual({ type: 'object' });
    for (const [path, s] of walk(root, kind)) {
      const text = JSON.stringify(s);
      expect([path, text.includes('"$ref"') || text.includes('"$defs"')]).toEqual([path, false]);
      // Each node has exactly one type, unless it is an int-or-string.
      if (s['x-kubernetes-int-or-string']) {
        expect([path, s.type, s.anyOf]).toEqual([path, undefined, [{ type: 'integer' }, { type: 'string' }]]);
      } else {
        expect([path, typeof s.type, s.anyOf]).toEqual([path, 'string', undefined]);
      }
      if (s.properties) expect([path, s.additionalProperties]).toEqual([path, undefined]);
      if (s.type === 'object' && path !== `${kind}.metadata`) expect([path, Boolean(s.properties) || Boolean(s.additionalProperties)]).toEqual([path, true]);
      for (const name of Object.keys(s.properties ?? {})) {
        if (path === kind && name === 'metadata') continue;
        expect([`${path}.${name}`, Boolean(s.properties?.[name]?.description)]).toEqual([`${path}.${name}`, true]);
      }
      expect([path, 'x-kubernetes-preserve-unknown-fields' in s]).toEqual([path, false]);
    }
  });

  it('carries the rules a schema can express', () => {
    const nw = openAPIV3Schema('NodeWorkload');
    const spec = nw.properties!.spec!;
    expect(nw.required).toEqual(['spec']);
    expect(spec.required).toEqual(['placement', 'template']);
    expect(spec.properties!.placement!.properties!.mode).toMatchObject({ enum: ['Replicas', 'EveryNode'], default: 'Replicas' });
    const container = spec.properties!.template!.properties!.containers!.items!;
    expect(container.required).toEqual(['name', 'image']);
    expect(container.properties!.name).toMatchObject({ maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' });
    const probe = container.properties!.livenessProbe!;
    expect(probe.properties!.periodSeconds).toMatchObject({ type: 'integer', minimum: 1, default: 10 });
    expect(probe.properties!.httpGet!.properties!.port).toMatchObject({ 'x-kubernetes-int-or-string': true, minimum: 1, maximum: 65535 });
    const servicePort = spec.properties!.service!.properties!.ports!.items!;
    expect(servicePort.properties!.targetPort).toMatchObject({ 'x-kubernetes-int-or-string': true, minimum: 1, maximum: 65535 });
    expect(servicePort.properties!.nodePort).toMatchObject({ minimum: 30000, maximum: 32767 });
    expect(servicePort.properties!.protocol).toMatchObject({ enum: ['TCP', 'UDP'], default: 'TCP' });
    expect(spec.properties!.updateStrategy!.properties!.maxUnavailable).toMatchObject({ 'x-kubernetes-int-or-string': true, default: 1, minimum: 1 });
    expect(container.properties!.resources!.properties!.limits!.properties!.memory).toMatchObject({ 'x-kubernetes-int-or-string': true, pattern: expect.any(String) });
    expect(nw.properties!.status!.properties!.conditions).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
  });

  it('keyed lists are x-kubernetes-list-type map with the keys Kubernetes uses, so server-side apply merges them per item', () => {
    const keyed = (kind: 'NodeWorkload' | 'NodeAssignment'): Record<string, string[]> => Object.fromEntries(
      [...walk(openAPIV3Schema(kind), kind)].filter(([, s]) => s['x-kubernetes-list-type'] === 'map').map(([p, s]) => [p, s['x-kubernetes-list-map-keys'] ?? []]),
    );
    expect(keyed('NodeWorkload')).toEqual({
      'NodeWorkload.spec.template.containers': ['name'],
      'NodeWorkload.spec.template.containers[].env': ['name'],
      'NodeWorkload.spec.template.containers[].ports': ['containerPort', 'protocol'],
      'NodeWorkload.spec.template.containers[].volumeMounts': ['mountPath'],
      'NodeWorkload.spec.template.volumes': ['name'],
      'NodeWorkload.spec.service.ports': ['port', 'protocol'],
      'NodeWorkload.status.conditions': ['type'],
    });
    expect(keyed('NodeAssignment')).toMatchObject({ 'NodeAssignment.spec.template.containers': ['name'], 'NodeAssignment.spec.template.containers[].ports': ['containerPort', 'protocol'] });
    // Kubernetes requires every map key to be required or defaulted in the items.
    for (const kind of ['NodeWorkload', 'NodeAssignment'] as const) {
      for (const [path, s] of walk(openAPIV3Schema(kind), kind)) {
        if (s['x-kubernetes-list-type'] !== 'map') continue;
        for (const key of s['x-kubernetes-list-map-keys'] ?? []) {
          const field = s.items!.properties![key]!;
          expect([path, key, ['string', 'integer'].includes(field.type ?? ''), s.items!.required?.includes(key) || field.default !== undefined]).toEqual([path, key, true, true]);
        }
      }
    }
  });

  it('every pattern is one Go\'s RE2 compiles too: no lookaround, no backreference', () => {
    for (const c of customResourceDefinitions()) {
      for (const [path, s] of walk(c.spec.versions[0]!.schema.openAPIV3Schema, c.spec.names.kind)) {
        if (s.pattern === undefined) continue;
        expect(() => new RegExp(s.pattern!, 'u')).not.toThrow();
        expect([path, /\(\?[=!<]|\\[1-9]/.test(s.pattern)]).toEqual([path, false]);
      }
    }
  });

  it('no integer carries the meaningless safe-integer bounds zod writes', () => {
    expect(JSON.stringify(customResourceDefinitions())).not.toContain(String(Number.MAX_SAFE_INTEGER));
  });
});

describe('structuralSchema refuses what a CRD cannot hold, naming the field', () => {
  it('a field without a description', () => {
    expect(() => structuralSchema(z.object({ a: z.string().describe('A.'), b: z.int() }).describe('X.'), 'spec')).toThrow(new CrdSchemaError('spec.b', 'needs a description (zod .describe())'));
  });
  it('a union other than integer-or-string', () => {
    expect(() => structuralSchema(z.union([z.string(), z.boolean()]), 'spec.x')).toThrow(/spec\.x: a union other than integer-or-string/);
  });
  it('an open object outside metadata', () => {
    expect(() => structuralSchema(z.looseObject({ a: z.string().describe('A.') }), 'spec.y')).toThrow(/spec\.y: an object that keeps unknown fields/);
  });
  it('a keyed list whose key is neither required nor defaulted', () => {
    const item = z.object({ name: z.string().describe('N.'), image: z.string().describe('I.') }).describe('C.');
    expect(() => structuralSchema(z.object({ containers: z.array(z.object({ name: z.string().optional().describe('N.') }).describe('C.')).describe('Cs.') }).describe('T.'), 'spec.template')).toThrow(new CrdSchemaError('spec.template.containers[].name', 'a list map key must be required or have a default'));
    expect(structuralSchema(z.object({ containers: z.array(item).describe('Cs.') }).describe('T.'), 'spec.template').properties!.containers).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
  });
  it('an int-or-string with its rules on top', () => {
    expect(structuralSchema(z.union([z.int().min(2), z.string().regex(/^a$/)]).describe('D.'), 'p')).toEqual({
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      minimum: 2,
      pattern: '^a$',
      description: 'D.',
    });
  });
});
