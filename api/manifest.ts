// Checks a YAML manifest (one or more `---`-separated documents) the way the API server and the
// operator would see it: every Shopfloor object against its schema, other kinds named and left
// alone. Pure: the caller reads the text and prints the result.
import { parseAllDocuments } from 'yaml';
import { API_VERSION, GROUP, KINDS, type KindName } from './group.js';
import type { NodeAgent } from './nodeagent.js';
import type { NodeAssignment } from './nodeassignment.js';
import type { NodeWorkload } from './nodeworkload.js';
import { VALIDATORS, describeValue, type FieldError } from './validate.js';

export type ManifestDocument =
  /** A Shopfloor object that passed its schema; `object` has the defaults filled in. */
  | { index: number; kind: KindName; name: string; verdict: 'valid'; object: NodeWorkload | NodeAssignment | NodeAgent }
  /**
   * A document with errors: YAML syntax, not an object, an unknown Shopfloor kind, or field errors.
   * kind and name are there when the document says them.
   */
  | { index: number; kind?: string; name?: string; verdict: 'invalid'; errors: FieldError[] }
  /** An object of another API group (a Namespace, a ConfigMap…): not Shopfloor's to check. */
  | { index: number; kind: string; name: string; verdict: 'foreign'; apiVersion: string };

const KIND_NAMES = Object.keys(KINDS) as KindName[];

function isKind(kind: unknown): kind is KindName {
  return typeof kind === 'string' && (KIND_NAMES as string[]).includes(kind);
}

function nameOf(o: Record<string, unknown>): string {
  const metadata = o.metadata;
  const name = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>).name : undefined;
  return typeof name === 'string' && name ? name : '(no name)';
}

// The yaml parser ends its messages with the position and a source excerpt; the line and column
// are given once, up front.
function yamlError(e: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }): FieldError {
  const at = e.linePos?.[0];
  const text = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return { path: '(yaml)', message: `${at ? `line ${at.line}, column ${at.col}: ` : ''}${text}` };
}

function checkDocument(index: number, value: unknown): ManifestDocument {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      index,
      verdict: 'invalid',
      errors: [{ path: '(root)', message: `expected a Kubernetes object with apiVersion, kind and metadata, not ${describeValue(value)}` }],
    };
  }
  const o = value as Record<string, unknown>;
  const name = nameOf(o);
  const { apiVersion, kind } = o;
  const ours = typeof apiVersion === 'string' && apiVersion.split('/')[0] === GROUP;
  if (isKind(kind) && (ours || apiVersion === undefined)) {
    const result = VALIDATORS[kind](value);
    if (result.ok) return { index, kind, name, verdict: 'valid', object: result.value };
    return { index, kind, name, verdict: 'invalid', errors: result.errors };
  }
  if (ours || apiVersion === undefined || typeof kind !== 'string' || !kind) {
    const errors: FieldError[] = [];
    if (typeof apiVersion !== 'string' || !apiVersion) errors.push({ path: 'apiVersion', message: `is required (e.g. ${API_VERSION})` });
    if (typeof kind !== 'string' || !kind) errors.push({ path: 'kind', message: `is required: one of ${KIND_NAMES.join(', ')} for Shopfloor` });
    else if (ours) errors.push({ path: 'kind', message: `unknown kind "${kind}" in ${GROUP}: expected one of ${KIND_NAMES.join(', ')}` });
    return { index, ...(typeof kind === 'string' && kind ? { kind } : {}), name, verdict: 'invalid', errors };
  }
  return { index, kind, name, verdict: 'foreign', apiVersion: String(apiVersion) };
}

/**
 * Every non-empty document of `text`, numbered from 1 as they appear. YAML syntax errors come
 * back as an invalid document at the path `(yaml)`, with line and column.
 */
export function checkManifest(text: string): ManifestDocument[] {
  const out: ManifestDocument[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    const index = i + 1;
    if (doc.errors.length) {
      out.push({ index, verdict: 'invalid', errors: doc.errors.map(yamlError) });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      out.push({ index, verdict: 'invalid', errors: [{ path: '(yaml)', message: (err as Error).message }] });
      return;
    }
    // A document with nothing in it (a trailing `---`, only comments) is skipped, as kubectl does.
    if (value === null || value === undefined) return;
    out.push(checkDocument(index, value));
  });
  return out;
}
