// What a user may do. The devcluster stores RBAC objects but does not enforce them: its one
// administrator (group system:masters) may do everything, and anyone else nothing. Pure, so
// SubjectAccessReview, SelfSubjectAccessReview and the reviews' own create check answer alike.
import { ADMIN } from './authentication.js';

/** The subject of a decision, as SubjectAccessReview's spec names it. */
export interface Subject {
  user?: string;
  groups?: readonly string[];
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

const MASTERS = 'system:masters';
const RULE = `the Shopfloor devcluster's only identity is its administrator (user "${ADMIN.username}", group ${MASTERS}), who may do everything; RBAC objects are stored, not enforced`;

export function authorize(subject: Subject): Decision {
  const admin = subject.user === ADMIN.username || (subject.groups ?? []).includes(MASTERS);
  return admin ? { allowed: true, reason: RULE } : { allowed: false, reason: `${RULE}, so nobody else may do anything` };
}
