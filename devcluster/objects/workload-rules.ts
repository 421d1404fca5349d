import type { KubeObject } from './object.js';
import { isPlainObject, jsonEqual } from './object.js';
import { labelSelectorRequirements, matchesLabels } from './selectors.js';
import type { StatusCause } from './status.js';

// What kube-apiserver checks and keeps of an apps/v1 Deployment or DaemonSet
// (pkg/apis/apps/validation, pkg/registry/apps/*/strategy.go), worded as it words it. Values in
// messages are JSON, as kube-apiserver prints them.

type Fields = Record<string, unknown>;

const fields = (v: unknown): Fields => (isPlainObject(v) ? v : {});

/** The annotation apps/v1 carries a DaemonSet's template generation in. */
export const TEMPLATE_GENERATION = 'deprecated.daemonset.template.generation';

/**
 * Sets a DaemonSet's template generation, which only the server writes: 1 on create, one more on
 * an update that changes the pod template (after defaulting, so defaults do not count).
 */
export function setTemplateGeneration(object: KubeObject, current: KubeObject | undefined): void {
  const previous = Number(current?.metadata.annotations?.[TEMPLATE_GENERATION] ?? 0) || 0;
  const changed = current === undefined || !jsonEqual(fields(current.spec).template, fields(object.spec).template);
  const generation = current === undefined ? 1 : changed ? previous + 1 : previous;
  object.metadata.annotations = { ...(object.metadata.annotations ?? {}), [TEMPLATE_GENERATION]: String(generation) };
}

function podTemplateCauses(template: Fields): StatusCause[] {
  const causes: StatusCause[] = [];
  const pod = fields(template.spec);
  const containers = Array.isArray(pod.containers) ? pod.containers : [];
  if (containers.length === 0) causes.push({ reason: 'FieldValueRequired', field: 'spec.template.spec.containers', message: 'Required value' });
  containers.forEach((c, i) => {
    for (const f of ['name', 'image']) {
      if (!fields(c)[f]) causes.push({ reason: 'FieldValueRequired', field: `spec.template.spec.containers[${i}].${f}`, message: 'Required value' });
    }
  });
  if (pod.restartPolicy !== undefined && pod.restartPolicy !== 'Always') {
    causes.push({ reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: `Unsupported value: ${JSON.stringify(pod.restartPolicy)}: supported values: "Always"` });
  }
  return causes;
}

/**
 * A Deployment's or DaemonSet's spec: a selector (required of a Deployment; without one a
 * DaemonSet selects nothing) that is not empty and matches the template's labels, a pod template
 * with containers, and on update the same selector (immutable in apps/v1).
 */
export function validateWorkload(kind: 'Deployment' | 'DaemonSet', object: KubeObject, current: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = fields(object.spec);
  if (kind === 'Deployment' && typeof spec.replicas === 'number' && spec.replicas < 0) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${spec.replicas}: must be greater than or equal to 0` });
  }
  const selector = labelSelectorRequirements(spec.selector);
  if (spec.selector === undefined && kind === 'Deployment') causes.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
  if (selector?.length === 0) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${JSON.stringify(spec.selector)}: empty selector is invalid for ${kind.toLowerCase()}` });
  }
  const template = fields(spec.template);
  const labels = fields(template.metadata).labels;
  if (!selector || !matchesLabels(selector, isPlainObject(labels) ? (labels as Record<string, string>) : {})) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(labels ?? null)}: \`selector\` does not match template \`labels\`` });
  }
  causes.push(...podTemplateCauses(template));
  if (current && !jsonEqual(fields(current.spec).selector, spec.selector)) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${JSON.stringify(spec.selector ?? null)}: field is immutable` });
  }
  return causes;
}
