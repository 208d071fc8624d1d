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
