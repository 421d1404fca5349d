// Objects the shipped CRDs would refuse, stored the way a user can store them: with an older CRD,
// or one without validation, installed in place of ours. The field at `path` of the schema
// becomes free-form (x-kubernetes-preserve-unknown-fields), so that the API server keeps any
// value there and the operator and agent must cope with what they read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot, type Kubectl } from './kubectl.js';

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  [key: string]: unknown;
}

interface CrdFile {
  spec: { versions: Array<{ schema: { openAPIV3Schema: SchemaNode } }> };
}

/** Applies crds/<plural>.shopfloor.dev.yaml with the schema of the field at `path` (e.g. ['spec', 'service']) left unchecked. */
export async function loosenCrdField(kubectl: Kubectl, plural: string, path: readonly string[]): Promise<void> {
  const crd = parse(readFileSync(join(repoRoot, 'crds', `${plural}.shopfloor.dev.yaml`), 'utf8')) as CrdFile;
  for (const version of crd.spec.versions) {
    let node = version.schema.openAPIV3Schema;
    for (const key of path.slice(0, -1)) {
      const next = node.properties?.[key];
      if (!next) throw new Error(`the ${plural} CRD schema has no field ${path.join('.')}`);
      node = next;
    }
    const last = path[path.length - 1]!;
    if (!node.properties?.[last]) throw new Error(`the ${plural} CRD schema has no field ${path.join('.')}`);
    node.properties[last] = { type: 'object', description: 'Left unchecked, as in a CRD without validation.', 'x-kubernetes-preserve-unknown-fields': true };
  }
  const applied = await kubectl(['apply', '-f', '-'], { input: stringify(crd) });
  if (applied.code !== 0) throw new Error(`kubectl apply of the loosened ${plural} CRD failed: ${applied.stderr}`);
}
