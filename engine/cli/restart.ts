/**
 * Restart strategy for failures inside the process (Flink's fixed-delay and exponential-delay
 * strategies; exponential is the default, as in Flink since 1.19: 1 s, ×1.5 per restart in a
 * row, at most 1 min, and a run that lasted an hour without failing starts the count afresh).
 *
 * Which failures restart, and how often (`decideRestart`, pure):
 * - a non-retriable user or external error (a bad record, a missing input, a misconfiguration,
 *   a broker that discarded a transaction) never: it would fail the same way again;
 * - a retriable error (a broker restarting, a topic recreated late, a full disk) as often as the
 *   strategy allows: no limit by default, because an outage can last longer than any small
 *   budget and each restart resumes from the latest checkpoint without loss;
 * - any other error (an internal error, an unclassified one) at most
 *   `UNEXPECTED_RESTARTS` times in a row, so a bug does not loop forever behind a growing delay.
 */
import { isWeirError } from "../../common/errors.ts";

export interface RestartStrategy {
  readonly kind: "fixed" | "exponential";
  /** Restarts allowed in a row after retriable failures (Infinity: no limit). */
  readonly attempts: number;
  /** Delay before the first restart (and every restart, when fixed). */
  readonly delayMs: number;
  /** Upper bound of an exponential delay. */
  readonly maxDelayMs: number;
  /** Growth of an exponential delay per restart in a row. */
  readonly multiplier: number;
  /** A run that lasted this long before failing resets the count and the delay. */
  readonly resetAfterMs: number;
}

export const UNEXPECTED_RESTARTS = 3;

export const defaultRestartStrategy: RestartStrategy = {
  kind: "exponential",
  attempts: Number.POSITIVE_INFINITY,
  delayMs: 1_000,
  maxDelayMs: 60_000,
  multiplier: 1.5,
  resetAfterMs: 60 * 60_000,
};

/** Delay before restart number `restart` (1-based) of a row of failures. */
export const restartDelay = (strategy: RestartStrategy, restart: number): number =>
  strategy.kind === "fixed"
    ? strategy.delayMs
    : Math.round(Math.min(strategy.maxDelayMs, strategy.delayMs * strategy.multiplier ** Math.max(0, restart - 1)));

export type RestartDecision =
  | { readonly kind: "restart"; readonly restart: number; readonly limit: number; readonly delayMs: number }
  | { readonly kind: "give-up"; readonly why: "not-retriable" | "budget" };

/**
 * What to do after a failure. `inARow` counts the restarts already made since the count was
 * last reset; `ranForMs` is how long the failed attempt ran.
 */
export const decideRestart = (
  strategy: RestartStrategy,
  failure: { readonly error: unknown; readonly inARow: number; readonly ranForMs: number },
): RestartDecision => {
  const { error } = failure;
  if (isWeirError(error) && error.domain !== "internal" && !error.retriable) return { kind: "give-up", why: "not-retriable" };
  const inARow = failure.ranForMs >= strategy.resetAfterMs ? 0 : failure.inARow;
  const retriable = isWeirError(error) && error.retriable;
  const limit = retriable ? strategy.attempts : Math.min(strategy.attempts, UNEXPECTED_RESTARTS);
  if (inARow >= limit) return { kind: "give-up", why: "budget" };
  const restart = inARow + 1;
  return { kind: "restart", restart, limit, delayMs: restartDelay(strategy, restart) };
};
