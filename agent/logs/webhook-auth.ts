// kubelet's webhook authentication and authorization, for the agent's log server: a bearer
// token is a user only if the API server's TokenReview says so, and the user may read a log
// only if its SubjectAccessReview allows it. Verdicts are cached (verdict-cache.ts), keyed by a
// hash of the token, never the token itself. The agent's own credentials need
// `create tokenreviews` and `create subjectaccessreviews` (the system:auth-delegator ClusterRole).
import { createHash } from 'node:crypto';
import type { KubeClient } from '../../kube/client.js';
import type { Clock } from '../../kube/clock.js';
import { SUBJECT_ACCESS_REVIEWS, TOKEN_REVIEWS } from '../../kube/resource.js';
import type { KubeObject } from '../../kube/types.js';
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

/** Who a token is and what a user may do; the log server asks only this. */
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
