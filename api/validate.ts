// Turns zod's issues into field errors a user can act on: the field path as kubectl prints it
// (spec.template.containers[0].name) and what the field allows.
import type { z } from 'zod';
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

function toFieldErrors(error: z.ZodError): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const path = formatPath(issue.path);
    const message = / received undefined$/.test(issue.message) ? `is required (${issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, '')})` : issue.message;
    const key = `${path}\u0000${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ path, message });
    }
  }
  return out;
}

function validator<S extends z.ZodType, T>(schema: S, finish: (v: z.output<S>) => T) {
  return (input: unknown): Validated<T> => {
    const r = schema.safeParse(input);
    if (!r.success) return { ok: false, errors: toFieldErrors(r.error) };
    return { ok: true, value: finish(r.data) };
  };
}

/** Fills the defaults the schema cannot express as constants (imagePullPolicy by tag). */
export function withTemplateDefaults(t: Template): Template {
  return { ...t, containers: t.containers.map((c) => ({ ...c, imagePullPolicy: effectivePullPolicy(c) })) };
}

export const validateNodeWorkload = validator(nodeWorkloadSchema, (w): NodeWorkload => ({
  ...w,
  spec: { ...w.spec, template: withTemplateDefaults(w.spec.template) },
}));

export const validateNodeAssignment = validator(nodeAssignmentSchema, (a): NodeAssignment => ({
  ...a,
  spec: { ...a.spec, template: withTemplateDefaults(a.spec.template) },
}));

export const validateNodeAgent = validator(nodeAgentSchema, (n): NodeAgent => n);
