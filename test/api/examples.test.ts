// Every example in examples/ is what a newcomer applies first: each document must pass the zod
// schema (what the operator enforces) and the generated CRD schema (what the API server enforces).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { KINDS, namedPorts, validateNodeWorkload, VALIDATORS, type KindName } from '../../api/index.js';
import { crdSchemaErrors } from './crd-schema.js';

const dir = new URL('../../examples/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

function documents(file: string): unknown[] {
  return parseAllDocuments(readFileSync(new URL(file, dir), 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`examples/${file}: ${d.errors.map(String).join('; ')}`);
    return d.toJS() as unknown;
  });
}

describe('examples/', () => {
  it('has hello, every-node and probes', () => {
    expect(files).toEqual(expect.arrayContaining(['every-node.yaml', 'hello.yaml', 'probes.yaml']));
  });

  describe.each(files)('%s', (file) => {
    const docs = documents(file);
    it('validates against the zod schema and the generated CRD schema', () => {
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        const kind = (doc as { kind?: string }).kind as KindName;
        expect(Object.keys(KINDS)).toContain(kind);
        const result = VALIDATORS[kind](doc);
        expect(result.ok ? [] : result.errors).toEqual([]);
        expect(crdSchemaErrors(kind, doc)).toEqual([]);
      }
    });
  });

  it('hello.yaml runs one busybox httpd replica, serving a page that names it, behind a VIP port 80 that reaches its port http', () => {
    const [doc] = documents('hello.yaml');
    const r = validateNodeWorkload(doc);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const { placement, template, service } = r.value.spec;
    expect(placement).toMatchObject({ mode: 'Replicas', replicas: 1 });
    expect(template.containers).toHaveLength(1);
    expect(template.containers[0]).toMatchObject({ command: ['sh', '-c', expect.stringMatching(/hostname.*exec httpd -f -p 8080 -h \/www$/)], imagePullPolicy: 'IfNotPresent' });
    expect(template.containers[0]?.image).toMatch(/busybox/);
    expect(service?.ports).toEqual([expect.objectContaining({ port: 80, targetPort: 'http', protocol: 'TCP' })]);
    expect(namedPorts(template).get('http')).toEqual({ containerPort: 8080, protocol: 'TCP' });
  });

  it('every-node.yaml places one replica on every node', () => {
    const r = validateNodeWorkload(documents('every-node.yaml')[0]);
    expect(r.ok && r.value.spec.placement).toEqual({ mode: 'EveryNode' });
  });

  it('probes.yaml shows exec, httpGet and tcpSocket probes', () => {
    const r = validateNodeWorkload(documents('probes.yaml')[0]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const c = r.value.spec.template.containers[0]!;
    expect(Object.keys(c.startupProbe?.exec ?? {})).toEqual(['command']);
    expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http', scheme: 'HTTP' });
    expect(c.livenessProbe?.tcpSocket).toMatchObject({ port: 8080 });
  });
});
