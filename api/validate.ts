// Turns zod's issues into field errors a user can act on: the field path as kubectl prints it
// (spec.template.containers[0].name) and what the field allows.
import type { z } from 'zod';
import { openAPIV3Schema, type JSONSchemaProps } from './crd.js';
import type { KindName } from './group.js';
import { nodeAgentSchema, type NodeAgent } from './nodeagent.js';
import { nodeAssignmentSchema, type NodeAssignment } from './nodeassignment.js';
import { nodeWorkloadSchema, type NodeWorkload } from './nodeworkload.js';
import { effectivePullPolicy, type Template } from './template.js';

export interface FieldError {
  /** Field path as kubectl prints it, e.g. `spec.template.containers[0].image`. */
  path: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Thrown where an invalid object cannot be returned as a result; carries every field error. */
export class ValidationError extends Error {
  constructor(
    readonly errors: FieldError[],
    what = 'object',
  ) {
    super(`invalid ${what}: ${errors.map(formatFieldError).join('; ')}`);
    this.name = 'ValidationError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

export function formatFieldError(e: FieldError): string {
  return `${e.path}: ${e.message}`;
}

const EXPECTED: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  record: 'an object',
};

/** A value as a user would name it in an error: `the string "3"`, `null`, `a list`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case 'number':
    case 'bigint':
      return `the number ${String(v)}`;
    case 'boolean':
      return String(v);
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

// zod's own messages ("Invalid input: expected string, received number") become the wording
// Shopfloor uses everywhere: what the field must be, and what it got. Messages the schemas set
// themselves are kept as written.
function message(issue: z.core.$ZodIssue): string {
  const own = !/^(Invalid input|Invalid option|Invalid string|Too small|Too big)\b/.test(issue.message);
  if (own) return issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return issue.input === undefined ? `is required (${expected})` : `must be ${expected}, not ${describeValue(issue.input)}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => (v === '' ? '""' : String(v)));
      const allowed = values.length === 1 ? `${values[0]}` : `one of ${values.join(', ')}`;
      return issue.input === undefined ? `is required: ${allowed}` : `must be ${allowed}`;
    }
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) === 1 ? 'must not be empty' : `must have at least ${issue.minimum} characters`;
      if (issue.origin === 'array') return `must list at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`;
      return `must be ${issue.inclusive ? '' : 'more than '}${issue.minimum}${issue.inclusive ? ' or more' : ''}`;
    case 'too_big':
      if (issue.origin === 'string') return `must have at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `must list at most ${issue.maximum} items`;
      return `must be ${issue.inclusive ? '' : 'less than '}${issue.maximum}${issue.inclusive ? ' or less' : ''}`;
    case 'invalid_format':
      return issue.format === 'regex' && issue.pattern ? `must match ${issue.pattern}` : `must be a valid ${issue.format}`;
    default:
      return issue.message;
  }
}

function toFieldErrors(error: z.ZodError, at: readonly PropertyKey[] = []): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const e = { path: formatPath([...at, ...issue.path]), message: message(issue) };
    const key = `${e.path}\u0000${e.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(e);
    }
  }
  return out;
}

/**
 * Fields of the input that the schema does not know. zod drops unknown keys silently, and the API
 * server prunes them (or, with kubectl's default strict field validation, rejects them), so a
 * misspelt optional field would otherwise pass unnoticed. The walk follows the generated CRD
 * schema, so it reports them beside every other error; free-form maps (labels, metadata) have no
 * fixed fields and are not walked into.
 */
function unknownFields(kind: KindName, input: unknown, schema: JSONSchemaProps, path: PropertyKey[], out: FieldError[]): void {
  if (Array.isArray(input)) {
    if (schema.items) input.forEach((v, i) => unknownFields(kind, v, schema.items!, [...path, i], out));
    return;
  }
  if (!isPlainObject(input)) return;
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    const field = schema.properties ? schema.properties[k] : schema.additionalProperties;
    if (field) {
      unknownFields(kind, v, field, [...path, k], out);
    } else if (schema.properties) {
      const explain = [kind.toLowerCase(), ...path.filter((p) => typeof p === 'string')].join('.');
      out.push({ path: formatPath([...path, k]), message: `unknown field: \`kubectl explain ${explain}\` lists the fields allowed here` });
    }
  }
}

const crdSchemas = new Map<KindName, JSONSchemaProps>();

function crdSchema(kind: KindName): JSONSchemaProps {
  let schema = crdSchemas.get(kind);
  if (!schema) {
    schema = openAPIV3Schema(kind);
    crdSchemas.set(kind, schema);
  }
  return schema;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validator<S extends z.ZodType, T>(kind: KindName, schema: S, finish: (v: z.output<S>) => T) {
  return (input: unknown): Validated<T> => {
    if (!isPlainObject(input)) {
      return {
        ok: false,
        errors: [{ path: '(root)', message: `expected a ${kind} object (apiVersion, kind, metadata, spec), not ${describeValue(input)}` }],
      };
    }
    const r = schema.safeParse(input, { reportInput: true });
    const errors = r.success ? [] : toFieldErrors(r.error);
    unknownFields(kind, input, crdSchema(kind), [], errors);
    if (!r.success || errors.length) return { ok: false, errors };
    return { ok: true, value: finish(r.data) };
  };
}

/**
 * Checks one field of a stored object on its own (a status field, a spec.service), for readers
 * that must go on with the rest of the object when that field is bad. Error paths start at `at`.
 */
export function validateField<S extends z.ZodType>(schema: S, input: unknown, at: readonly PropertyKey[]): Validated<z.output<S>> {
  const r = schema.safeParse(input, { reportInput: true });
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: toFieldErrors(r.error, at) };
}

/** Fills the defaults the schema cannot express as constants (imagePullPolicy by tag). */
export function withTemplateDefaults(t: Template): Template {
  return { ...t, containers: t.containers.map((c) => ({ ...c, imagePullPolicy: effectivePullPolicy(c) })) };
}

export const validateNodeWorkload = validator('NodeWorkload', nodeWorkloadSchema, (w): NodeWorkload => ({
  ...w,
  spec: { ...w.spec, template: withTemplateDefaults(w.spec.template) },
}));

export const validateNodeAssignment = validator('NodeAssignment', nodeAssignmentSchema, (a): NodeAssignment => ({
  ...a,
  spec: { ...a.spec, template: withTemplateDefaults(a.spec.template) },
}));

export const validateNodeAgent = validator('NodeAgent', nodeAgentSchema, (n): NodeAgent => n);

/** The validator of each Shopfloor kind, for tools that read manifests of mixed kinds. */
export const VALIDATORS: Record<KindName, (input: unknown) => Validated<NodeWorkload | NodeAssignment | NodeAgent>> = {
  NodeWorkload: validateNodeWorkload,
  NodeAssignment: validateNodeAssignment,
  NodeAgent: validateNodeAgent,
};
