// The median the benchmarks report repeated timings by: the upper middle of an even count, so
// that it is always one of the measured values.
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no values: measure at least once');
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
