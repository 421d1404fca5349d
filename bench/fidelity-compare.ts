// bench/fidelity's pure part: what an answer from an API server looks like once the fields that
// differ on every run (uids, resourceVersions, timestamps, ages) are masked, and where two such
// answers differ. No I/O here, so the rules are unit-tested (fidelity-compare.test.ts).

/** What one scenario saw: a JSON value (status code, body, kubectl's exit code and output...). */
export type Answer = unknown;

/** One place where the devcluster's answer and kube-apiserver's differ. */
export interface Difference {
  /** Where in the answer, as `.a.b[2]`; `` for the whole answer. */
  path: string;
  /** value: both have it, unlike; order: the same items in another order; only-*: one has it. */
  kind: 'value' | 'order' | 'only-devcluster' | 'only-kube-apiserver';
  devcluster?: unknown;
  kubeApiserver?: unknown;
}

const TIME = /\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)\b/g;
const UID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;
// kubectl's AGE column and "deleted after 3s"-style durations: 5s, 2m10s, 3h, 4d.
const AGE = /(?<=\s|^)\d+(?:[dhms]\d*)+(?=\s|$)/gm;
// Keys whose value is the server's and changes on every write, whatever it looks like.
const VOLATILE_KEYS: Record<string, string> = {
  uid: '<uid>',
  resourceVersion: '<rv>',
  continue: '<continue>',
};

/**
 * A text with its timestamps, uids and ages masked, and each run of kubectl's `* field: error`
 * lines sorted: kube-apiserver lists a custom resource's schema errors in an order that varies
 * from run to run.
 */
export function normaliseText(text: string): string {
  const masked = text.replace(TIME, '<time>').replace(UID, '<uid>').replace(AGE, '<age>');
  return masked.replace(/(?:^\* .*(?:\n|$))+/gm, (run) => {
    const lines = run.split('\n').filter((l) => l !== '');
    return lines.sort().join('\n') + (run.endsWith('\n') ? '\n' : '');
  });
}

/**
 * An answer with its volatile values masked: `uid`, `resourceVersion` and `continue` keys (at
 * any depth, so managedFields and ownerReferences too), and in every string a timestamp, uid or
 * age. A resourceVersion of "" stays "": that it is empty is what a client sees.
 */
export function normalise(answer: Answer): Answer {
  if (typeof answer === 'string') return normaliseText(answer);
  if (Array.isArray(answer)) return answer.map(normalise);
  if (answer === null || typeof answer !== 'object') return answer;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(answer)) {
    const mask = VOLATILE_KEYS[key];
    out[key] = mask !== undefined && typeof value === 'string' && value !== '' ? mask : normalise(value);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function same(a: unknown, b: unknown): boolean {
  return differences(a, b).length === 0;
}

/** Whether two lists hold the same items (each as often) in different orders. */
function reordered(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  const left = [...b];
  for (const item of a) {
    const i = left.findIndex((l) => same(item, l));
    if (i < 0) return false;
    left.splice(i, 1);
  }
  return true;
}

/**
 * Where two normalised answers differ, deepest first found: a key only one has, a list in
 * another order (reported once for the list), or unlike values.
 */
export function differences(devcluster: Answer, kubeApiserver: Answer, path = ''): Difference[] {
  if (Array.isArray(devcluster) && Array.isArray(kubeApiserver)) {
    if (devcluster.length === kubeApiserver.length) {
      const inner = devcluster.flatMap((d, i) => differences(d, kubeApiserver[i], `${path}[${i}]`));
      if (inner.length === 0) return [];
      if (reordered(devcluster, kubeApiserver)) return [{ path, kind: 'order', devcluster, kubeApiserver }];
      return inner;
    }
    return [{ path, kind: 'value', devcluster, kubeApiserver }];
  }
  if (isObject(devcluster) && isObject(kubeApiserver)) {
    const keys = [...new Set([...Object.keys(devcluster), ...Object.keys(kubeApiserver)])].sort();
    return keys.flatMap((k): Difference[] => {
      const at = `${path}.${k}`;
      if (!(k in kubeApiserver)) return [{ path: at, kind: 'only-devcluster', devcluster: devcluster[k] }];
      if (!(k in devcluster)) return [{ path: at, kind: 'only-kube-apiserver', kubeApiserver: kubeApiserver[k] }];
      return differences(devcluster[k], kubeApiserver[k], at);
    });
  }
  return devcluster === kubeApiserver ? [] : [{ path, kind: 'value', devcluster, kubeApiserver }];
}

/** One difference as a line for a reader. */
export function describeDifference(d: Difference): string {
  const show = (v: unknown): string => JSON.stringify(v) ?? 'undefined';
  switch (d.kind) {
    case 'only-devcluster':
      return `${d.path || '<answer>'}: only the devcluster has it: ${show(d.devcluster)}`;
    case 'only-kube-apiserver':
      return `${d.path || '<answer>'}: only kube-apiserver has it: ${show(d.kubeApiserver)}`;
    case 'order':
      return `${d.path || '<answer>'}: same items, another order: devcluster ${show(d.devcluster)}, kube-apiserver ${show(d.kubeApiserver)}`;
    case 'value':
      return `${d.path || '<answer>'}: devcluster ${show(d.devcluster)}, kube-apiserver ${show(d.kubeApiserver)}`;
  }
}
