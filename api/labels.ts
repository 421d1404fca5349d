/** Label on every NodeAssignment naming the node it is for: agents watch only their own. */
export const LABEL_NODE = 'shopfloor.dev/node';
/** Label on every NodeAssignment naming the NodeWorkload it belongs to. */
export const LABEL_WORKLOAD = 'shopfloor.dev/workload';
/** Label on every NodeAssignment holding the template revision it runs. */
export const LABEL_REVISION = 'shopfloor.dev/revision';
/** Standard label on everything Shopfloor creates. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'shopfloor';
/** Finalizer that keeps a NodeWorkload's virtual IP reserved until its assignments are gone. */
export const FINALIZER_VIP = 'shopfloor.dev/vip';
/** Annotation the operator puts on an assignment of a lost node once a replacement runs elsewhere. */
export const ANNOTATION_REPLACED_AT = 'shopfloor.dev/replaced-at';
/** Label on static assignments (from a node's manifest directory) and their read-only mirrors in the API. Mirrors carry no shopfloor.dev/workload label, so no controller takes them for replicas of a NodeWorkload. */
export const LABEL_STATIC = 'shopfloor.dev/static';
