import { applyBuiltinDefaults } from './builtin-defaults.js';
import { crdResource, establishedStatus, validateCrd } from './crd.js';
import type { KubeObject } from './object.js';
import type { ResourceInfo, VersionInfo } from './registry.js';
import { applyDefaults } from '../schema/schema-defaults.js';
import { prune } from '../schema/schema-pruning.js';
import type { JSONSchemaProps } from '../schema/schema-types.js';
import { validateSchema } from '../schema/schema-validation.js';
import { checkRules, hasRules, RULES_NOT_CHECKED } from '../schema/schema-rules.js';
import { scaleValueProblems } from './scale.js';
import type { StatusCause } from './status.js';
import { validateMetadata } from './object-rules.js';
import { keepAllocatedIps, validateService } from './service-rules.js';
import { setTemplateGeneration, validateWorkload } from './workload-rules.js';

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
 * What kube-apiserver's strategy for a built-in kind keeps from `current` (undefined on create)
 * and checks, after defaulting: Deployments, DaemonSets and Services.
 */
function builtinRules(info: ResourceInfo, object: KubeObject, current: KubeObject | undefined): StatusCause[] {
  switch (`${info.group}/${info.resource}`) {
    case 'apps/deployments':
      return validateWorkload('Deployment', object, current);
    case 'apps/daemonsets':
      setTemplateGeneration(object, current);
      return validateWorkload('DaemonSet', object, current);
    case '/services':
      if (current) keepAllocatedIps(object, current);
      return validateService(object, current);
    default:
      return [];
  }
}

/**
 * Prunes, defaults and validates an object on its way into storage (`current`: the stored one,
 * on update), as kube-apiserver does for custom resources (structural schema), CRDs (names,
 * versions; established at once) and the built-in kinds with rules of their own.
 */
export function admit(info: ResourceInfo, version: VersionInfo, object: KubeObject, current?: KubeObject): Admitted {
  if (info.builtin) applyBuiltinDefaults(info, object);
  const causes = validateMetadata(info, object);
  if (info.builtin) causes.push(...builtinRules(info, object, current));
  let unknownFields: string[] = [];
  if (version.schema) {
    unknownFields = prune(version.schema, object);
    applyDefaults(version.schema, object);
    const body = bodySchema(version.schema);
    const schemaCauses = validateSchema(body, object);
    // As kube-apiserver: a value of the wrong type or outside its enum keeps the rules from
    // running (they may rely on both), and says so; other schema errors leave them to run.
    const rules = hasRules(body);
    const blocked = rules && schemaCauses.some((c) => c.reason === 'FieldValueTypeInvalid' || c.reason === 'FieldValueNotSupported');
    const scaleCauses = version.scale ? scaleValueProblems(object, version.scale) : [];
    causes.push(...scaleCauses, ...(blocked ? [RULES_NOT_CHECKED] : []), ...schemaCauses, ...(rules && !blocked ? checkRules(body, object, current, '') : []));
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
