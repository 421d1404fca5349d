// Who a request is. The devcluster knows one identity: the administrator, whose bearer token is
// in the data dir (credentials.ts). kube-apiserver's static-token authenticator answers the same
// way: a token is a user with a name, a uid and groups, or nobody.
import { timingSafeEqual } from 'node:crypto';

/** A user as TokenReview and SubjectAccessReview name it. */
export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
}

/** The administrator: member of system:masters, the group kube-apiserver never denies. */
export const ADMIN: Readonly<UserInfo> = Object.freeze({ username: 'shopfloor-admin', uid: 'shopfloor-admin', groups: ['system:masters', 'system:authenticated'] });

/**
 * The audience of the devcluster's own API (kube-apiserver's default --api-audiences, the
 * service account issuer). Static tokens are not bound to an audience: they count for this one.
 */
export const API_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';

export interface Authentication {
  user: UserInfo;
  /** The audiences the token is valid for, of those asked for (or the API's when none were). */
  audiences: string[];
}

export class Authenticator {
  private readonly adminToken: Buffer;

  constructor(adminToken: string) {
    this.adminToken = Buffer.from(adminToken);
  }

  /**
   * The user a bearer token stands for, or undefined. When `audiences` are asked for, the token
   * counts only if they include the API's audience, as kube-apiserver's audience-agnostic
   * authenticators answer.
   */
  token(token: string, audiences: readonly string[] = []): Authentication | undefined {
    const given = Buffer.from(token);
    if (given.length !== this.adminToken.length || !timingSafeEqual(given, this.adminToken)) return undefined;
    if (audiences.length > 0 && !audiences.includes(API_AUDIENCE)) return undefined;
    return { user: { ...ADMIN, groups: [...ADMIN.groups] }, audiences: [API_AUDIENCE] };
  }

  /** The user of a request's `Authorization: Bearer <token>` header, or undefined. */
  header(authorization: string | undefined): UserInfo | undefined {
    const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    return m ? this.token((m[1] as string).trim())?.user : undefined;
  }
}
