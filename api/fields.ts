// Field schemas shared by every Shopfloor kind. Each carries a description (it becomes the CRD
// field's description and `kubectl explain` text) and an error message that says what is allowed.
import { z } from 'zod';
import { QUANTITY, QUANTITY_HELP } from './quantity.js';

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const IANA_SVC_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const DNS1123_LABEL_HELP =
  'a DNS-1123 label: at most 63 lowercase letters, digits or "-", starting and ending with a letter or digit';

export function dnsLabel(description: string) {
  return z
    .string({ error: `must be ${DNS1123_LABEL_HELP}` })
    .max(63, { error: `must be ${DNS1123_LABEL_HELP}` })
    .regex(DNS1123_LABEL, { error: `must be ${DNS1123_LABEL_HELP}` })
    .describe(description);
}

export function dnsSubdomain(description: string) {
  const help =
    'must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, "-" or ".", starting and ending with a letter or digit';
  return z.string({ error: help }).max(253, { error: help }).regex(DNS1123_SUBDOMAIN, { error: help }).describe(description);
}

/** A port name, as Kubernetes allows for container and service ports (IANA_SVC_NAME). */
export function portName(description: string) {
  const help = 'must be an IANA service name: at most 15 lowercase letters, digits or "-", with at least one letter, starting and ending with a letter or digit';
  return z
    .string({ error: help })
    .max(15, { error: help })
    .regex(IANA_SVC_NAME, { error: help })
    .refine((s) => /[a-z]/.test(s) && !s.includes('--'), { error: help })
    .describe(description);
}

export function portNumber(description: string) {
  const help = 'must be a port number from 1 to 65535';
  return z.int({ error: help }).min(1, { error: help }).max(65535, { error: help }).describe(description);
}

export function nonNegativeInt(description: string) {
  return z.int({ error: 'must be a whole number, 0 or more' }).min(0, { error: 'must be 0 or more' }).describe(description);
}

export function positiveInt(description: string) {
  return z.int({ error: 'must be a whole number, 1 or more' }).min(1, { error: 'must be 1 or more' }).describe(description);
}

export interface IntOrStringRules {
  /** Smallest allowed number. */
  min?: number;
  /** Largest allowed number. */
  max?: number;
  /** What a string must match. */
  pattern: RegExp;
  /** What the field allows, e.g. "a port number from 1 to 65535 or a port name". */
  help: string;
}

/**
 * Kubernetes' IntOrString: a whole number or a string. Both branches carry the field's rules so
 * that the generated CRD (x-kubernetes-int-or-string) enforces them too, and every way of getting
 * it wrong names what is allowed.
 */
export function intOrString(description: string, rules: IntOrStringRules) {
  const error = `must be ${rules.help}`;
  let int = z.int({ error });
  if (rules.min !== undefined) int = int.min(rules.min, { error });
  if (rules.max !== undefined) int = int.max(rules.max, { error });
  return z.union([int, z.string({ error }).regex(rules.pattern, { error })], { error }).describe(description);
}

/** A container port: its number, or the name of one of the container's ports. */
export function portNumberOrName(description: string) {
  return intOrString(description, {
    min: 1,
    max: 65535,
    pattern: IANA_SVC_NAME,
    help: 'a port number from 1 to 65535 or the name of a container port',
  });
}

/**
 * A Kubernetes quantity such as "500m" or "128Mi", or a whole number. Fractions must be strings,
 * as in every CRD: the API server reads a quantity as an IntOrString.
 */
export function quantity(description: string) {
  return intOrString(description, { min: 0, pattern: QUANTITY, help: QUANTITY_HELP });
}

export function stringMap(description: string) {
  return z.record(z.string(), z.string({ error: 'values must be strings' })).describe(description);
}

export const protocol = z
  .enum(['TCP', 'UDP'], { error: 'must be one of TCP, UDP' })
  .default('TCP')
  .describe('Network protocol: TCP (the default) or UDP.');

/** The part of ObjectMeta Shopfloor reads; the API server owns the rest, which passes through. */
export const objectMeta = z
  .looseObject({
    name: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.int().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .describe('Standard object metadata.');

export const conditionSchema = z
  .object({
    type: z.string().min(1).describe('Type of the condition, e.g. Ready.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition: True, False or Unknown.'),
    reason: z.string().describe('CamelCase reason for the last transition, for machines.'),
    message: z.string().describe('Human-readable details about the last transition.'),
    lastTransitionTime: z.string().describe('When the status last changed (RFC 3339).'),
    observedGeneration: z.int().min(0).optional().describe('metadata.generation the condition was computed from.'),
  })
  .describe('One observation of the object\'s state, like metav1.Condition.');

export const conditionList = z
  .array(conditionSchema)
  .describe('Current observations of the object\'s state, one per type.');
