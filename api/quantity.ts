// Kubernetes resource quantities ("500m", "1.5", "128Mi", "1e3"), parsed the way the API
// server reads them, so that requests compare the same here as in a cluster.

/** A quantity written as a string; the CRD schema carries the same pattern. */
export const QUANTITY = /^([+]?(?:\d+(?:\.\d*)?|\.\d+))(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;

const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** What a quantity field allows, for error messages. */
export const QUANTITY_HELP =
  'a Kubernetes quantity: a whole number 0 or more, or a string of a non-negative number with an optional suffix m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent (e.g. "500m", "0.5", "128Mi", "1e9"); quote fractions';

export type Quantity = string | number;

/** The quantity's value in base units, or undefined when it is not a valid quantity. */
export function parseQuantity(q: Quantity): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? q : undefined;
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const base = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    return base * 10 ** Number(suffix.slice(1));
  }
  const factor = SUFFIX[suffix];
  return factor === undefined ? undefined : base * factor;
}

export function isQuantity(q: Quantity): boolean {
  return parseQuantity(q) !== undefined;
}

/** CPU in millicores, rounded up like the API server rounds sub-millicore requests. */
export function cpuMillis(q: Quantity): number {
  const v = parseQuantity(q);
  if (v === undefined) throw new Error(`invalid cpu quantity ${JSON.stringify(q)}: expected ${QUANTITY_HELP}`);
  return Math.ceil(Math.round(v * 1e6) / 1e3);
}

/** Memory in bytes, rounded up. */
export function memoryBytes(q: Quantity): number {
  const v = parseQuantity(q);
  if (v === undefined) throw new Error(`invalid memory quantity ${JSON.stringify(q)}: expected ${QUANTITY_HELP}`);
  return Math.ceil(v);
}
