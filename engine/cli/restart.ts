/**
 * Restart strategy for failures inside the process (as Flink's fixed-delay and exponential-delay
 * strategies). Which failures restart: everything except a non-retriable user or external error
 * (a bad record, a missing input, or a broker that discarded a transaction would fail the same way
 * again). Internal errors (unexpected failures) are restarted.
 */
import { isWeirError } from "../../common/errors.ts";

export interface RestartStrategy {
  readonly kind: "fixed" | "exponential";
  /** Restarts allowed after the first failure. */
  readonly attempts: number;
  readonly delayMs: number;
  /** Upper bound of an exponential delay. */
  readonly maxDelayMs: number;
}

export const restartDelay = (strategy: RestartStrategy, attempt: number): number =>
  strategy.kind === "fixed" ? strategy.delayMs : Math.min(strategy.maxDelayMs, strategy.delayMs * 2 ** (attempt - 1));

export const isRestartable = (error: unknown): boolean => !(isWeirError(error) && error.domain !== "internal" && !error.retriable);
