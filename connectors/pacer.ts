/**
 * Paces a split reader to `ratePerSecond` against the injected clock: since the reader opened,
 * it may have emitted at most `elapsed * rate` records. Without a rate, everything is allowed.
 */
export interface Pacer {
  /** How many of `wanted` records may be emitted now, given `emitted` since opening (0: wait `retryAfterMs`). */
  allow(wanted: number, emitted: number): number;
  readonly retryAfterMs: number;
}

export const createPacer = (ratePerSecond: number | undefined, now: () => number): Pacer => {
  if (ratePerSecond === undefined) return { allow: (wanted) => wanted, retryAfterMs: 0 };
  const openedAt = now();
  return {
    allow: (wanted, emitted) => Math.max(0, Math.min(wanted, Math.floor(((now() - openedAt) / 1000) * ratePerSecond) - emitted)),
    retryAfterMs: Math.max(1, Math.ceil(1000 / ratePerSecond)),
  };
};
