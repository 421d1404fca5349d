import { applyBuiltinDefaults } from './builtin-defaults.js';
import { crdResource, establishedStatus, validateCrd } from './crd.js';
import type { KubeObject } from './object.js';
import type { ResourceInfo, VersionInfo } from './registry.js';
import { applyDefaults } from '../schema/schema-defaults.js';
import { prune } from '../schema/schema-pruning.js';
import type { JSONSchemaProps } from '../schema/schema-types.js';
import { validateSchema } from '../schema/schema-validation.js';
import type { StatusCause } from './status.js';
import { validateMetadata } from './object-rules.js';

export interface Admitted {
  object: KubeObject;
  /** Fields dropped because the schema does not know them (for fieldValidation). */
  unknownFields: string[];
  causes: StatusCause[];
}

/** The schema without `metadata`, which the server validates by its own rules. */
function bodySchema(schema: JSONSchemaProps): JSONSchemaProps {
  if (!schema.properties?.metadata) return schema;
  const { metadata: _m, ...properties } = schema.properties;
  return { ...schema, properties };
}

/**
 * Prunes, defaults and validates an object on its way into storage, as kube-apiserver does for
 * custom resources (structural schema) and CRDs (names, versions; established at once).
 */
export function admit(info: ResourceInfo, version: VersionInfo, object: KubeObject): Admitted {
  if (info.builtin) applyBuiltinDefaults(info, object);
  const causes = validateMetadata(info, object);
  let unknownFields: string[] = [];
  if (version.schema) {
    unknownFields = prune(version.schema, object);
    applyDefaults(version.schema, object);
    causes.push(...validateSchema(bodySchema(version.schema), object));
  }
  if (info.builtin && info.resource === 'customresourcedefinitions') {
    causes.push(...validateCrd(object));
    if (causes.length === 0) {
      // A structural schema is required; this checks the ones the devcluster evaluates parse.
      crdResource(object);
      object.status = establishedStatus(object);
    }
  }
  return { object, unknownFields, causes };
}
