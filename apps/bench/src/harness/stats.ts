/**
 * The arithmetic of the report: medians, quantiles and per-round ratios. Pure functions, tested
 * in `__tests__/harness/stats.test.ts`.
 */

/** The median of `values` (the mean of the two middle values when their count is even); `NaN` when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The `q` quantile (0 ≤ q ≤ 1) of `sorted` (ascending) by the nearest-rank method: the smallest
 * value with at least `q` of the values at or below it. `NaN` when empty.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Expected \`q\` to be a number in [0, 1], got ${q}.`);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

/** Latency percentiles, in the unit of the samples. */
export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly count: number;
}

/** p50, p90, p99, p99.9 and max of `samples` (not modified). */
export function percentiles(samples: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(samples as ArrayLike<number>).sort();
  return {
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    p999: quantileSorted(sorted, 0.999),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    count: sorted.length,
  };
}

/** Median, minimum and maximum of a set of values. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** The median, min and max of `values`; all `NaN` when empty. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Per-round ratios `a[i] / b[i]` of two contenders measured in the same rounds, summarised as
 * their median, min and max. Pairing by round cancels what a round shared (a slow phase of a busy
 * machine hits both), which a ratio of two medians would not. Rounds where either value is missing
 * or `b` is 0 are skipped.
 */
export function roundRatios(a: readonly number[], b: readonly number[]): Spread {
  const ratios: number[] = [];
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isFinite(x) && Number.isFinite(y) && y !== 0) ratios.push(x / y);
  }
  return spread(ratios);
}

/**
 * The order contenders run in round `round`: the list rotated by `round` places, so that none
 * always runs first (right after the previous scenario) or last.
 */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const shift = ((round % n) + n) % n;
  return items.map((_, i) => items[(i + shift) % n]!);
}
