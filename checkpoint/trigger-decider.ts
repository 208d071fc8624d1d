/**
 * Decides when the coordinator may start the next checkpoint (Flink's CheckpointRequestDecider,
 * kept small): periodic by interval, never closer than `minPauseMs` after the last completion,
 * never more than `maxConcurrent` in flight. A requested checkpoint (final, or stop) skips the
 * interval and the pause but still waits for a free slot.
 */
export interface TriggerConfig {
  readonly intervalMs: number;
  readonly minPauseMs: number;
  readonly maxConcurrent: number;
}

export interface TriggerView {
  readonly now: number;
  readonly pendingCount: number;
  /** When the last checkpoint was triggered (or when the coordinator started). */
  readonly lastTriggerAt: number;
  /** When the last checkpoint completed or failed; undefined if none yet. */
  readonly lastSettledAt: number | undefined;
  readonly requested: boolean;
}

export type TriggerDecision = { readonly kind: "trigger" } | { readonly kind: "wait"; readonly untilAt: number | undefined };

export const decideTrigger = (config: TriggerConfig, view: TriggerView): TriggerDecision => {
  if (view.pendingCount >= config.maxConcurrent) return { kind: "wait", untilAt: undefined };
  if (view.requested) return { kind: "trigger" };
  const byInterval = view.lastTriggerAt + config.intervalMs;
  const byPause = view.lastSettledAt === undefined ? -Infinity : view.lastSettledAt + config.minPauseMs;
  const at = Math.max(byInterval, byPause);
  return view.now >= at ? { kind: "trigger" } : { kind: "wait", untilAt: at };
};
