import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { startDevclusterTestCluster } from '../harness/devcluster.js';
import type { TestCluster } from '../harness/test-cluster.js';

// TokenReview and SubjectAccessReview through kubectl, as a node agent in webhook mode (and an
// admin checking by hand) asks them.
describe('devcluster review APIs with kubectl', () => {
  let c: TestCluster;
  const create = async (manifest: string): Promise<{ status: Record<string, unknown> }> => {
    const r = await c.kubectl(['create', '-f', '-', '-o', 'yaml'], { input: manifest });
    if (r.code !== 0) throw new Error(`kubectl create failed (${r.code}): ${r.stderr}`);
    return parse(r.stdout) as { status: Record<string, unknown> };
  };

  beforeAll(async () => {
    c = await startDevclusterTestCluster();
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('lists tokenreviews and subjectaccessreviews in discovery, create only', async () => {
    const r = await c.kubectl(['api-resources', '--api-group=authentication.k8s.io', '-o', 'wide']);
    expect(r.stdout).toMatch(/tokenreviews\s+authentication.k8s.io\/v1\s+false\s+TokenReview\s+create/);
    const z = await c.kubectl(['api-resources', '--api-group=authorization.k8s.io', '-o', 'wide']);
    expect(z.stdout).toMatch(/subjectaccessreviews\s+authorization.k8s.io\/v1\s+false\s+SubjectAccessReview\s+create/);
    expect((await c.kubectl(['get', 'tokenreviews'])).stderr).toContain('Error from server (MethodNotAllowed): the server does not allow this method on the requested resource (GET)');
  });

  it('authenticates the devcluster token as the administrator and nothing else', async () => {
    const ok = await create(`apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: ${c.token}\n`);
    expect(ok.status).toEqual({
      authenticated: true,
      user: { username: 'shopfloor-admin', uid: 'shopfloor-admin', groups: ['system:masters', 'system:authenticated'] },
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    });
    const bad = await create('apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: not-the-token\n');
    expect(bad.status).toEqual({ authenticated: false, user: {} });
    const empty = await c.kubectl(['create', '-f', '-'], { input: 'apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec: {}\n' });
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toContain('token is required for TokenReview in authentication');
  });

  it('allows the administrator to read an assignment\'s log and denies anyone else, with the reason', async () => {
    const review = (subject: string): string =>
      `apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n${subject}\n  resourceAttributes:\n    group: shopfloor.dev\n    resource: nodeassignments\n    subresource: log\n    verb: get\n    namespace: default\n    name: web-0\n`;
    expect((await create(review('  user: shopfloor-admin\n  groups: [system:masters, system:authenticated]'))).status).toMatchObject({ allowed: true });
    const denied = await create(review('  user: alice\n  groups: [system:authenticated]'));
    expect(denied.status.allowed).toBe(false);
    expect(denied.status.reason).toMatch(/only identity is its administrator .* so nobody else may do anything/);
    const invalid = await c.kubectl(['create', '-f', '-'], { input: review('  uid: "1"') });
    expect(invalid.stderr).toContain('spec.user: Invalid value: "": at least one of user or group must be specified');
  });

  it('still answers kubectl auth can-i for the administrator', async () => {
    expect((await c.kubectl(['auth', 'can-i', 'get', 'nodeassignments', '--subresource=log'])).stdout).toBe('yes\n');
  });
});
