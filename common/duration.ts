/** Parses durations like `200ms`, `1s`, `1.5m`, `1h`, or a bare number of milliseconds. */
export const parseDuration = (text: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (m === null) return undefined;
  const value = Number(m[1]);
  const unit = m[2] ?? "ms";
  const factor = unit === "ms" ? 1 : unit === "s" ? 1_000 : unit === "m" ? 60_000 : 3_600_000;
  return Math.round(value * factor);
};

export const formatDuration = (ms: number): string =>
  ms < 1_000 ? `${Math.round(ms)}ms` : ms < 60_000 ? `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)}s` : `${(ms / 60_000).toFixed(1)}m`;

/** `ms` in the largest unit that divides it exactly (`3600000` is `1h`, `90000` is `90s`), as `parseDuration` reads it. */
export const formatExactDuration = (ms: number): string => {
  for (const [unit, factor] of [["h", 3_600_000], ["m", 60_000], ["s", 1_000]] as const) {
    if (ms !== 0 && ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return `${ms}ms`;
};

/**
 * A duration argument (a number of ms or a string such as "10s") as whole milliseconds, or
 * undefined if it is neither a safe integer nor a duration. With `signed`, a string may start
 * with "-" (window offsets, interval-join bounds). Callers word their own errors.
 */
export const durationMillis = (value: unknown, signed = false): number | undefined => {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value + 0 : undefined;
  if (typeof value !== "string") return undefined;
  const negative = signed && /^\s*-/.test(value);
  const ms = parseDuration(negative ? value.replace(/^\s*-/, "") : value);
  if (ms === undefined || !Number.isSafeInteger(ms)) return undefined;
  return negative ? -ms + 0 : ms;
};
