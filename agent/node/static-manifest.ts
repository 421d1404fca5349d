// Static workloads, like kubelet's static pods: NodeWorkload documents in files on the node, each
// run as one replica on this node with no API server involved. This file turns one file's text
// into the NodeAssignments they stand for. Pure.
//
// A static workload is a valid NodeWorkload (so `shopfloor validate` checks the same file), of
// which the agent reads metadata and spec.template; spec.placement does not apply (one replica
// runs here), and spec.service is refused: services are served from NodeWorkloads in the API,
// and a static workload has none.
import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import {
  API_VERSION,
  GROUP,
  LABEL_MANAGED_BY,
  LABEL_NODE,
  LABEL_REVISION,
  LABEL_STATIC,
  MANAGED_BY_VALUE,
  checkManifest,
  formatFieldError,
  type FieldError,
  type NodeAssignment,
  type NodeWorkload,
} from '../../api/index.js';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN } from '../../api/fields.js';
import type { KubeObject } from '../../kube/types.js';
import { canonicalJson } from '../../api/canonical-json.js';
import { templateRevision } from '../../api/revision.js';

/** Annotation holding the static assignment's content hash (also its uid), on it and on its mirror. */
export const ANNOTATION_CONFIG_HASH = 'shopfloor.dev/config-hash';
/** Annotation naming the file a static assignment comes from. */
export const ANNOTATION_CONFIG_SOURCE = 'shopfloor.dev/config-source';

export const DEFAULT_STATIC_NAMESPACE = 'default';

/** What is wrong with one static manifest file (or one document of it). */
export interface ManifestProblem {
  file: string;
  /** 1-based document number, when the problem is in one document. */
  document?: number;
  /** The workload the document names (`namespace/name` once it is valid). */
  workload?: string;
  errors: FieldError[];
}

export function formatProblem(p: ManifestProblem): string {
  const where = [p.file, p.document !== undefined ? `document ${p.document}` : undefined, p.workload ? `(NodeWorkload ${p.workload})` : undefined].filter(Boolean).join(' ');
  return `${where}: ${p.errors.map(formatFieldError).join('; ')}`;
}

export interface ParsedManifest {
  /** One static assignment per NodeWorkload of the file, in file order. */
  assignments: NodeAssignment[];
  /** Empty when the whole file is valid. */
  problems: ManifestProblem[];
}

/** Whether `obj` is a static assignment or the mirror of one. */
export function isStatic(obj: KubeObject): boolean {
  return obj.metadata?.labels?.[LABEL_STATIC] === 'true';
}

/** The label selector of this node's mirrors. */
export function mirrorSelector(nodeName: string): string {
  return `${LABEL_NODE}=${nodeName},${LABEL_STATIC}=true`;
}

/**
 * The content hash of a static workload, shaped like a UUID: SHA-256 of the node, the file and
 * the document as written (canonical JSON), so that editing the file gives a new identity while
 * an agent upgrade with new defaults does not.
 */
export function staticUid(nodeName: string, file: string, document: unknown): string {
  const h = createHash('sha256').update(`host:${nodeName}\nfile:${file}\n${canonicalJson(document)}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Labels and annotations of the file's own, without the keys Shopfloor reserves (shopfloor.dev/…, managed-by). */
function userKeys(map: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).filter(([k]) => !k.startsWith(`${GROUP}/`) && k !== LABEL_MANAGED_BY));
}

/** The static assignment of a valid workload from `file`, for `nodeName`. */
export function staticAssignment(workload: NodeWorkload, document: unknown, file: string, nodeName: string): NodeAssignment {
  const name = workload.metadata.name;
  const uid = staticUid(nodeName, file, document);
  const revision = templateRevision(workload.spec.template);
  return {
    apiVersion: API_VERSION,
    kind: 'NodeAssignment',
    metadata: {
      name: `${name}-${nodeName}`,
      namespace: workload.metadata.namespace || DEFAULT_STATIC_NAMESPACE,
      uid,
      labels: { ...userKeys(workload.metadata.labels), [LABEL_NODE]: nodeName, [LABEL_REVISION]: revision, [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_STATIC]: 'true' },
      annotations: { ...userKeys(workload.metadata.annotations), [ANNOTATION_CONFIG_HASH]: uid, [ANNOTATION_CONFIG_SOURCE]: file },
    },
    spec: { nodeName, workloadRef: { name }, revision, template: workload.spec.template },
  };
}

/** The static assignments of one file's text, or what is wrong with it. */
export function parseStaticManifest(text: string, file: string, nodeName: string): ParsedManifest {
  const assignments: NodeAssignment[] = [];
  const problems: ManifestProblem[] = [];
  const raw = parseAllDocuments(text);
  const seen = new Map<string, number>();
  for (const doc of checkManifest(text)) {
    const at = { file, document: doc.index };
    if (doc.verdict === 'foreign' || (doc.verdict === 'valid' && doc.kind !== 'NodeWorkload')) {
      const apiVersion = doc.verdict === 'foreign' ? doc.apiVersion : API_VERSION;
      problems.push({ ...at, errors: [{ path: 'kind', message: `${doc.kind} (${apiVersion}) is not a NodeWorkload: a static manifest holds only ${API_VERSION} NodeWorkloads` }] });
      continue;
    }
    if (doc.verdict === 'invalid') {
      problems.push({ ...at, ...(doc.name && doc.name !== '(no name)' ? { workload: doc.name } : {}), errors: doc.errors });
      continue;
    }
    const workload = doc.object as NodeWorkload;
    const workloadKey = `${workload.metadata.namespace || DEFAULT_STATIC_NAMESPACE}/${workload.metadata.name}`;
    const errors: FieldError[] = [];
    if (workload.spec.service) {
      errors.push({ path: 'spec.service', message: 'a static workload has no service (services are served from NodeWorkloads in the API); remove spec.service, or apply the workload with kubectl instead' });
    }
    const namespace = workload.metadata.namespace;
    if (namespace !== undefined && (namespace.length > 63 || !DNS1123_LABEL.test(namespace))) {
      errors.push({ path: 'metadata.namespace', message: 'must be a namespace name: a DNS-1123 label (at most 63 lowercase letters, digits or "-")' });
    }
    const name = `${workload.metadata.name}-${nodeName}`;
    if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
      errors.push({ path: 'metadata.name', message: `with the node name appended ("${name}") is not a valid NodeAssignment name (a DNS-1123 subdomain of at most 253 characters); shorten it` });
    }
    const first = seen.get(workloadKey);
    if (first !== undefined) errors.push({ path: 'metadata.name', message: `NodeWorkload ${workloadKey} is already defined by document ${first} of this file` });
    if (errors.length) {
      problems.push({ ...at, workload: workloadKey, errors });
      continue;
    }
    seen.set(workloadKey, doc.index);
    assignments.push(staticAssignment(workload, raw[doc.index - 1]?.toJS({ maxAliasCount: 100 }), file, nodeName));
  }
  return { assignments, problems };
}
