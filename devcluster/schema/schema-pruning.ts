import { isPlainObject } from '../objects/object.js';
import type { JSONSchemaProps } from './schema-types.js';

/**
 * Removes fields the schema does not know (unless it preserves unknown fields), in place, and
 * returns their paths so that `fieldValidation=Strict` can refuse them. At the root, apiVersion,
 * kind and metadata are always kept, as kube-apiserver does.
 */
export function prune(schema: JSONSchemaProps, value: unknown, isRoot = true): string[] {
  const pruned: string[] = [];
  walk(schema, value, '', isRoot, pruned);
  return pruned;
}

function walk(schema: JSONSchemaProps, value: unknown, path: string, isRoot: boolean, pruned: string[]): void {
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      const child = path ? `${path}.${key}` : key;
      if (isRoot && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
      const prop = schema.properties?.[key];
      if (prop) walk(prop, value[key], child, prop['x-kubernetes-embedded-resource'] === true, pruned);
      else if (isPlainObject(schema.additionalProperties)) walk(schema.additionalProperties, value[key], child, false, pruned);
      else if (schema.additionalProperties === true || schema['x-kubernetes-preserve-unknown-fields']) continue;
      else {
        delete value[key];
        pruned.push(child);
      }
    }
  } else if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    value.forEach((v, i) => walk(items, v, `${path}[${i}]`, items['x-kubernetes-embedded-resource'] === true, pruned));
  }
}
