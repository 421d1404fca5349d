// The review kinds: answered at once, never stored, create only (as kube-apiserver serves them).
// TokenReview and SubjectAccessReview are what a node agent asks to authenticate and authorize
// the requests it serves itself (kubelet's webhook mode); the caller must be allowed to create
// them. SelfSubjectAccessReview and SelfSubjectRulesReview answer `kubectl auth can-i`.
import { type Authenticator, type UserInfo } from './authentication.js';
import { authorize, type Subject } from './authorization.js';
import { isPlainObject, type KubeObject } from '../objects/object.js';
import { ApiError, badRequest, invalid, type StatusCause } from '../objects/status.js';

/** What a review is answered with besides its body: who asks, and the devcluster's authenticator. */
export interface ReviewContext {
  caller: UserInfo;
  authenticator: Authenticator;
}

export type Review = (body: KubeObject, ctx: ReviewContext) => KubeObject;

/** 403 unless the caller may create the review, worded like kube-apiserver's RBAC denial. */
function mayCreate(ctx: ReviewContext, resource: string, group: string): void {
  const decision = authorize({ user: ctx.caller.username, groups: ctx.caller.groups });
  if (!decision.allowed) {
    throw new ApiError(403, `${resource}.${group} is forbidden: User "${ctx.caller.username}" cannot create resource "${resource}" in API group "${group}" at the cluster scope: ${decision.reason}`, 'Forbidden', { group, kind: resource });
  }
}

function specOf(body: KubeObject): Record<string, unknown> {
  return isPlainObject(body.spec) ? body.spec : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export const tokenReview: Review = (body, ctx) => {
  mayCreate(ctx, 'tokenreviews', 'authentication.k8s.io');
  const spec = specOf(body);
  if (typeof spec.token !== 'string' || spec.token === '') throw badRequest('token is required for TokenReview in authentication');
  const found = ctx.authenticator.token(spec.token, strings(spec.audiences));
  const status = found ? { authenticated: true, user: found.user, audiences: found.audiences } : { authenticated: false, user: {} };
  return { ...body, metadata: { ...body.metadata }, status };
};

/** The spec's subject and attributes checked as kube-apiserver checks them: 422 naming the field. */
function validateAccessSpec(spec: Record<string, unknown>, kind: string, requireSubject: boolean): void {
  const causes: StatusCause[] = [];
  const bad = (field: string, message: string): void => void causes.push({ reason: 'FieldValueInvalid', field, message });
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  if (resource !== undefined && nonResource !== undefined) bad('spec.nonResourceAttributes', 'Invalid value: "object": cannot be specified in combination with resourceAttributes');
  if (resource === undefined && nonResource === undefined) bad('spec.resourceAttributes', 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
  for (const [field, value] of [['resourceAttributes', resource], ['nonResourceAttributes', nonResource]] as const) {
    if (value !== undefined && !isPlainObject(value)) bad(`spec.${field}`, `Invalid value: ${JSON.stringify(value)}: must be an object`);
  }
  if (requireSubject && !(typeof spec.user === 'string' && spec.user !== '') && strings(spec.groups).length === 0) {
    bad('spec.user', 'Invalid value: "": at least one of user or group must be specified');
  }
  if (causes.length > 0) throw invalid(kind, 'authorization.k8s.io', '', causes);
}

export const subjectAccessReview: Review = (body, ctx) => {
  mayCreate(ctx, 'subjectaccessreviews', 'authorization.k8s.io');
  const spec = specOf(body);
  validateAccessSpec(spec, 'SubjectAccessReview', true);
  const subject: Subject = { ...(typeof spec.user === 'string' ? { user: spec.user } : {}), groups: strings(spec.groups) };
  return { ...body, metadata: { ...body.metadata }, status: authorize(subject) };
};

/** The caller's own question: the same decision, about the caller. */
export const selfSubjectAccessReview: Review = (body, ctx) => {
  validateAccessSpec(specOf(body), 'SelfSubjectAccessReview', false);
  return { ...body, metadata: { ...body.metadata }, status: authorize({ user: ctx.caller.username, groups: ctx.caller.groups }) };
};

/** The caller's rules: everything, or nothing, as the devcluster authorizes. */
export const selfSubjectRulesReview: Review = (body, ctx) => {
  const { allowed } = authorize({ user: ctx.caller.username, groups: ctx.caller.groups });
  const status = allowed
    ? { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false }
    : { resourceRules: [], nonResourceRules: [], incomplete: false };
  return { ...body, metadata: { ...body.metadata }, status };
};
