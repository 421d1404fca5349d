import { describe, expect, it } from '@jest/globals';
import { ADMIN, API_AUDIENCE, Authenticator, type UserInfo } from './authentication.js';
import { selfSubjectAccessReview, selfSubjectRulesReview, subjectAccessReview, tokenReview, type ReviewContext } from './reviews.js';
import { ApiError } from '../objects/status.js';

const authenticator = new Authenticator('admin-token');
const asAdmin: ReviewContext = { caller: { ...ADMIN, groups: [...ADMIN.groups] }, authenticator };
// The devcluster authenticates no one but its administrator; a review context can still name
// another caller, which is how the create check is reached.
const stranger: UserInfo = { username: 'alice', uid: 'a', groups: ['system:authenticated'] };
const asStranger: ReviewContext = { caller: stranger, authenticator };

function apiError(f: () => unknown): ApiError {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('TokenReview', () => {
  it('authenticates the admin token as the administrator, with the API audience', () => {
    const out = tokenReview({ spec: { token: 'admin-token' }, metadata: {} }, asAdmin);
    expect(out.status).toEqual({ authenticated: true, user: { username: 'shopfloor-admin', uid: 'shopfloor-admin', groups: ['system:masters', 'system:authenticated'] }, audiences: [API_AUDIENCE] });
  });

  it('answers any other token unauthenticated, and a token for another audience too', () => {
    expect(tokenReview({ spec: { token: 'admin-tokeN' }, metadata: {} }, asAdmin).status).toEqual({ authenticated: false, user: {} });
    expect(tokenReview({ spec: { token: 'admin-token', audiences: ['https://other.example'] }, metadata: {} }, asAdmin).status).toEqual({ authenticated: false, user: {} });
    expect(tokenReview({ spec: { token: 'admin-token', audiences: ['x', API_AUDIENCE] }, metadata: {} }, asAdmin).status).toMatchObject({ authenticated: true, audiences: [API_AUDIENCE] });
  });

  it('needs a token, and a caller allowed to create TokenReviews', () => {
    expect(apiError(() => tokenReview({ spec: {}, metadata: {} }, asAdmin))).toMatchObject({ code: 400, message: 'token is required for TokenReview in authentication' });
    const denied = apiError(() => tokenReview({ spec: { token: 'admin-token' }, metadata: {} }, asStranger));
    expect(denied.code).toBe(403);
    expect(denied.message).toMatch(/^tokenreviews.authentication.k8s.io is forbidden: User "alice" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope: /);
  });
});

describe('SubjectAccessReview', () => {
  const attrs = { resourceAttributes: { group: 'shopfloor.dev', resource: 'nodeassignments', subresource: 'log', verb: 'get', namespace: 'default', name: 'web-0' } };

  it('allows the administrator by name or by group system:masters, and nobody else', () => {
    expect(subjectAccessReview({ spec: { ...attrs, user: 'shopfloor-admin' }, metadata: {} }, asAdmin).status).toMatchObject({ allowed: true });
    expect(subjectAccessReview({ spec: { ...attrs, user: 'bob', groups: ['system:masters'] }, metadata: {} }, asAdmin).status).toMatchObject({ allowed: true });
    const denied = subjectAccessReview({ spec: { ...attrs, user: 'bob', groups: ['system:authenticated'] }, metadata: {} }, asAdmin).status as { allowed: boolean; reason: string };
    expect(denied.allowed).toBe(false);
    expect(denied.reason).toContain('nobody else may do anything');
  });

  it('refuses a spec without a subject or with both or neither attribute kinds (422 naming the field)', () => {
    expect(apiError(() => subjectAccessReview({ spec: attrs, metadata: {} }, asAdmin)).message).toBe('SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified');
    expect(apiError(() => subjectAccessReview({ spec: { user: 'x' }, metadata: {} }, asAdmin)).message).toContain('spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
    expect(apiError(() => subjectAccessReview({ spec: { ...attrs, nonResourceAttributes: { path: '/x', verb: 'get' }, user: 'x' }, metadata: {} }, asAdmin)).message).toContain('spec.nonResourceAttributes: Invalid value: "object": cannot be specified in combination with resourceAttributes');
  });

  it('is refused to a caller not allowed to create SubjectAccessReviews', () => {
    expect(apiError(() => subjectAccessReview({ spec: { ...attrs, user: 'x' }, metadata: {} }, asStranger)).code).toBe(403);
  });
});

describe('self reviews', () => {
  it('answer about the caller: everything for the administrator, nothing for anyone else', () => {
    const spec = { resourceAttributes: { verb: 'delete', resource: 'nodeworkloads' } };
    expect(selfSubjectAccessReview({ spec, metadata: {} }, asAdmin).status).toMatchObject({ allowed: true });
    expect(selfSubjectAccessReview({ spec, metadata: {} }, asStranger).status).toMatchObject({ allowed: false });
    expect(selfSubjectRulesReview({ spec: {}, metadata: {} }, asAdmin).status).toMatchObject({ resourceRules: [{ verbs: ['*'] }] });
    expect(selfSubjectRulesReview({ spec: {}, metadata: {} }, asStranger).status).toMatchObject({ resourceRules: [] });
  });
});
