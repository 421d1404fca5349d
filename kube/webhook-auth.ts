// kubelet's webhook authentication and authorization, for the servers Shopfloor runs beside the
// API server (the agent's log server, the operator's floor): a bearer token is a user only if the
// API server's TokenReview says so, and the user may do what a request asks only if its
// SubjectAccessReview allows it. Verdicts are cached (verdict-cache.ts), keyed by a
// hash of the token, never the token itself. The server's own credentials need
// `create tokenreviews` and `create subjectaccessreviews` (the system:auth-delegator ClusterRole).
import { createHash } from 'node:crypto';
import type { KubeClient } from './client.js';
import type { Clock } from './clock.js';
import { SUBJECT_ACCESS_REVIEWS, TOKEN_REVIEWS } from './resource.js';
import type { KubeObject } from './types.js';
import { VerdictCache } from './verdict-cache.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** SubjectAccessReview's resourceAttributes. */
export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

/** Who a token is and what a user may do; the servers ask only this. */
export interface Reviewer {
  /** The user a bearer token is, or undefined when the API server does not authenticate it. */
  authenticate(token: string): Promise<UserInfo | undefined>;
  authorize(user: UserInfo, attributes: ResourceAttributes): Promise<Decision>;
}

export interface WebhookReviewerOptions {
  client: KubeClient;
  clock: Clock;
  /** Default 2 min (kubelet's authentication.webhook.cacheTTL). */
  authenticationTtlMs?: number;
  /** Default 5 min (authorization.webhook.cacheAuthorizedTTL). */
  allowedTtlMs?: number;
  /** Default 30 s (authorization.webhook.cacheUnauthorizedTTL). */
  deniedTtlMs?: number;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

type Review<S> = KubeObject & { status?: S };

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export class WebhookReviewer implements Reviewer {
  private readonly users: VerdictCache<UserInfo | null>;
  private readonly decisions: VerdictCache<Decision>;

  constructor(private readonly o: WebhookReviewerOptions) {
    this.users = new VerdictCache(o.clock);
    this.decisions = new VerdictCache(o.clock);
  }

  async authenticate(token: string): Promise<UserInfo | undefined> {
    const key = sha256(token);
    const cached = this.users.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const review = await this.o.client.create<Review<TokenReviewStatus>>(TOKEN_REVIEWS, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token } } as Review<TokenReviewStatus>);
    const s = review.status;
    const user = s?.authenticated && s.user?.username
      ? { username: s.user.username, ...(s.user.uid ? { uid: s.user.uid } : {}), groups: s.user.groups ?? [], ...(s.user.extra ? { extra: s.user.extra } : {}) }
      : null;
    this.users.set(key, user, this.o.authenticationTtlMs ?? 120_000);
    return user ?? undefined;
  }

  async authorize(user: UserInfo, attributes: ResourceAttributes): Promise<Decision> {
    const spec = { user: user.username, groups: user.groups, ...(user.uid ? { uid: user.uid } : {}), ...(user.extra ? { extra: user.extra } : {}), resourceAttributes: attributes };
    const key = sha256(JSON.stringify(spec));
    const cached = this.decisions.get(key);
    if (cached) return cached;
    const review = await this.o.client.create<Review<{ allowed?: boolean; reason?: string; evaluationError?: string }>>(SUBJECT_ACCESS_REVIEWS, { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {}, spec } as Review<never>);
    const decision = { allowed: review.status?.allowed === true, reason: review.status?.reason || review.status?.evaluationError || '' };
    this.decisions.set(key, decision, decision.allowed ? (this.o.allowedTtlMs ?? 300_000) : (this.o.deniedTtlMs ?? 30_000));
    return decision;
  }
}

/** A request refused for its credentials: 401 without a user, 403 when not allowed, 503 when the API server did not answer. */
export class AccessRefused extends Error {
  constructor(
    readonly status: 401 | 403 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** A review the API server could not answer is 503: the request may be tried again. */
async function review<T>(what: string, ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (err) {
    throw new AccessRefused(503, `cannot ${what} the request: the API server did not answer the review (${(err as Error).message}); try again`);
  }
}

/** The user of a request's `Authorization: Bearer` header; throws AccessRefused. */
export async function requestUser(reviewer: Reviewer, authorization: string | undefined): Promise<UserInfo> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) throw new AccessRefused(401, 'Unauthorized: send Authorization: Bearer <token> with a token the API server authenticates');
  const user = await review('authenticate', () => reviewer.authenticate(m[1] as string));
  if (!user) throw new AccessRefused(401, 'Unauthorized: the API server does not authenticate this token');
  return user;
}

/** Resolves when `user` may do `attributes`; throws AccessRefused (403 names the user and the attributes). */
export async function requireAccess(reviewer: Reviewer, user: UserInfo, attributes: ResourceAttributes): Promise<void> {
  const decision = await review('authorize', () => reviewer.authorize(user, attributes));
  if (decision.allowed) return;
  // kubelet's words: the attributes but the group, which the resource implies.
  const { group: _implied, ...named } = attributes;
  const asked = Object.entries({ user: user.username, ...named }).map(([k, v]) => `${k}=${v}`).join(', ');
  throw new AccessRefused(403, `Forbidden (${asked})${decision.reason ? `: ${decision.reason}` : ''}`);
}
