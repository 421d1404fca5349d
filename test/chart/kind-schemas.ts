// Checks a rendered object against the published OpenAPI schema of its kind: Kubernetes' own
// from kubernetes-models, prometheus-operator's ServiceMonitor from
// @kubernetes-models/prometheus-operator (both generated from the projects' schemas). They check
// types, required fields and formats; unknown fields are left to the API server's strict
// field validation (the apply suite).
import type { RenderedObject } from './chart.js';

/** Third-party API groups and the package that holds their models. */
const THIRD_PARTY_MODELS: Record<string, string> = { 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator' };

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

/** The module of a kind's model, e.g. kubernetes-models/apps/v1/DaemonSet. */
export function modelModule(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const pkg = THIRD_PARTY_MODELS[group] ?? 'kubernetes-models';
  return `${pkg}/${apiVersion}/${kind}`;
}

/** Throws, naming the object and the failing field, when `o` does not fit its kind's schema. */
export async function validateAgainstKindSchema(o: RenderedObject): Promise<void> {
  const module = modelModule(o.apiVersion, o.kind);
  let Class: ModelClass | undefined;
  try {
    Class = ((await import(module)) as Record<string, ModelClass>)[o.kind];
  } catch (err) {
    throw new Error(`${o.kind} ${o.metadata.name}: no schema for ${o.apiVersion} ${o.kind} (${module}: ${(err as Error).message})`);
  }
  if (!Class) throw new Error(`${o.kind} ${o.metadata.name}: ${module} exports no ${o.kind}`);
  try {
    new Class(o).validate();
  } catch (err) {
    throw new Error(`${o.kind} ${o.metadata.name} does not fit the ${o.apiVersion} ${o.kind} schema: ${(err as Error).message}`);
  }
}
