import type { KubeObject } from './object.js';
import { nowTimestamp } from './object.js';
import type { PrinterColumn, ResourceInfo } from './registry.js';
import type { JSONSchemaProps } from '../schema/schema-types.js';
import type { StatusCause } from './status.js';
import { scalePathProblems, type ScalePaths } from './scale.js';
import { ruleProblems } from '../schema/schema-rules.js';

interface CrdVersion {
  name?: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: JSONSchemaProps };
  subresources?: { status?: object; scale?: unknown };
  additionalPrinterColumns?: { name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }[];
}

interface CrdSpec {
  group?: string;
  scope?: string;
  names?: { plural?: string; singular?: string; kind?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions?: CrdVersion[];
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks the parts of a CRD the devcluster relies on; each problem names its field. */
export function validateCrd(crd: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const bad = (field: string, message: string, reason = 'FieldValueInvalid'): void => {
    causes.push({ reason, field, message });
  };
  const spec = (crd.spec ?? {}) as CrdSpec;
  const names = spec.names ?? {};
  if (!spec.group) bad('spec.group', 'Required value', 'FieldValueRequired');
  else if (!spec.group.includes('.')) bad('spec.group', `Invalid value: "${spec.group}": should be a domain with at least one dot`);
  if (!names.plural) bad('spec.names.plural', 'Required value', 'FieldValueRequired');
  else if (!dnsLabel.test(names.plural)) bad('spec.names.plural', `Invalid value: "${names.plural}": a lowercase RFC 1123 label is required`);
  if (!names.kind) bad('spec.names.kind', 'Required value', 'FieldValueRequired');
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') bad('spec.scope', `Unsupported value: "${String(spec.scope)}": supported values: "Cluster", "Namespaced"`, 'FieldValueNotSupported');
  if (names.plural && spec.group && crd.metadata.name !== `${names.plural}.${spec.group}`) {
    bad('metadata.name', `Invalid value: "${crd.metadata.name}": must be spec.names.plural+"."+spec.group`);
  }
  const versions = spec.versions ?? [];
  if (versions.length === 0) bad('spec.versions', 'Invalid value: must have at least one version', 'FieldValueRequired');
  if (versions.filter((v) => v.storage).length !== 1 && versions.length > 0) bad('spec.versions', 'Invalid value: must have exactly one version marked as storage version');
  versions.forEach((v, i) => {
    if (!v.name || !dnsLabel.test(v.name)) bad(`spec.versions[${i}].name`, `Invalid value: "${String(v.name)}": a DNS-1035 label is required`);
    if (!v.schema?.openAPIV3Schema) bad(`spec.versions[${i}].schema.openAPIV3Schema`, 'Required value: schemas are required', 'FieldValueRequired');
    else causes.push(...ruleProblems(v.schema.openAPIV3Schema, `spec.versions[${i}].schema.openAPIV3Schema`));
    if (v.subresources?.scale !== undefined) causes.push(...scalePathProblems(v.subresources.scale, `spec.versions[${i}].subresources.scale`));
    (v.additionalPrinterColumns ?? []).forEach((c, j) => {
      if (!c.jsonPath?.startsWith('.')) bad(`spec.versions[${i}].additionalPrinterColumns[${j}].jsonPath`, `Invalid value: "${String(c.jsonPath)}": must be a simple json path starting with .`);
    });
  });
  return causes;
}

/** The resource a CRD serves. */
export function crdResource(crd: KubeObject): ResourceInfo {
  const spec = crd.spec as CrdSpec;
  const names = spec.names ?? {};
  const kind = names.kind ?? '';
  const group = spec.group ?? '';
  const plural = names.plural ?? '';
  return {
    group,
    resource: plural,
    singular: names.singular || kind.toLowerCase(),
    kind,
    listKind: names.listKind || `${kind}List`,
    namespaced: spec.scope === 'Namespaced',
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    versions: (spec.versions ?? []).map((v) => ({
      name: v.name ?? '',
      served: v.served ?? false,
      storage: v.storage ?? false,
      ...(v.schema?.openAPIV3Schema ? { schema: v.schema.openAPIV3Schema } : {}),
      printerColumns: printerColumns(v),
      hasStatus: v.subresources?.status !== undefined,
      ...(v.subresources?.scale !== undefined ? { scale: v.subresources.scale as ScalePaths } : {}),
    })),
    builtin: false,
    storagePrefix: `/registry/${group}/${plural}/`,
    nameRule: 'subdomain',
    unconditionalUpdate: false,
    generation: 'spec',
  };
}

function printerColumns(v: CrdVersion): PrinterColumn[] {
  const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
  const columns = v.additionalPrinterColumns;
  if (!columns || columns.length === 0) return [age];
  return columns.map((c) => ({
    name: c.name,
    type: c.type,
    ...(c.format ? { format: c.format } : {}),
    ...(c.description ? { description: c.description } : {}),
    priority: c.priority ?? 0,
    jsonPath: c.jsonPath,
  }));
}

/** A CRD's status as the devcluster sets it: names accepted and established at once. */
export function establishedStatus(crd: KubeObject): Record<string, unknown> {
  const spec = crd.spec as CrdSpec;
  const names = spec.names ?? {};
  const kind = names.kind ?? '';
  const previous = ((crd.status as { conditions?: { type: string; lastTransitionTime?: string }[] } | undefined)?.conditions ?? []);
  const since = (type: string): string => previous.find((c) => c.type === type)?.lastTransitionTime ?? nowTimestamp();
  return {
    acceptedNames: {
      plural: names.plural,
      singular: names.singular || kind.toLowerCase(),
      kind,
      listKind: names.listKind || `${kind}List`,
      ...(names.shortNames ? { shortNames: names.shortNames } : {}),
      ...(names.categories ? { categories: names.categories } : {}),
    },
    conditions: [
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: since('NamesAccepted') },
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: since('Established') },
    ],
    storedVersions: (spec.versions ?? []).filter((v) => v.storage).map((v) => v.name),
  };
}
