import { clone, isPlainObject } from '../objects/object.js';
import type { JSONSchemaProps } from './schema-types.js';

/** Fills in schema defaults for absent fields (and nulls where null is not allowed), in place. */
export function applyDefaults(schema: JSONSchemaProps, value: unknown): void {
  if (isPlainObject(value)) {
    for (const [k, prop] of Object.entries(schema.properties ?? {})) {
      if (prop.default !== undefined && (value[k] === undefined || (value[k] === null && !prop.nullable))) {
        value[k] = clone(prop.default);
      }
      if (value[k] !== undefined) applyDefaults(prop, value[k]);
    }
    if (isPlainObject(schema.additionalProperties)) {
      const extra = schema.additionalProperties;
      for (const [k, v] of Object.entries(value)) if (!schema.properties?.[k]) applyDefaults(extra, v);
    }
  } else if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    value.forEach((v, i) => {
      if (v === null && items.default !== undefined && !items.nullable) value[i] = clone(items.default);
      applyDefaults(items, value[i]);
    });
  }
}
