/** Median and spread of repeated measurements (the harness reports median and min–max). */

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** Median (mean of the middle two for an even count); NaN for none. */
export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export const spread = (xs: readonly number[]): Spread => ({
  median: median(xs),
  min: xs.length === 0 ? Number.NaN : Math.min(...xs),
  max: xs.length === 0 ? Number.NaN : Math.max(...xs),
  n: xs.length,
});
