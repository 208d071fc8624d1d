/**
 * Record timestamps beside batches (Flink's StreamRecord timestamp): a batch's records may carry
 * a parallel array of timestamps, assigned once at the source by its watermark strategy and handed
 * on by the operators that know Flink's rule (operators/operator.ts, `timestamps`):
 *
 * - map, filter, flatMap, process (non-keyed), keyed reduce / aggregate, keyed process
 *   `processElement`, side outputs: the timestamp of the record being processed;
 * - keyed process `onTimer`: the timer's time for event-time timers, none for processing-time ones;
 * - windows (and so window joins and coGroup): the window's max timestamp (end - 1);
 * - interval join: the larger of the two records' timestamps.
 *
 * Absent arrays cost nothing: an operator is handed `Timestamps` only when it may need them
 * (`ts` below), and a batch whose output has none travels without an array.
 */
import { internalError } from "../common/errors.ts";
import type { Operator, Timestamps } from "./operator.ts";

/** No timestamp (a slot of a batch's array whose record has none). */
export const NO_TIMESTAMP = Number.NaN;

/**
 * The `ts` argument the engine gives `op` for a batch whose records carry `input` (undefined:
 * none): undefined when the operator would do nothing with it.
 */
export const timestampsFor = (op: Operator<unknown, unknown>, input: readonly number[] | undefined): Timestamps | undefined => {
  const mode = op.timestamps;
  if (mode === undefined || (mode === "propagate" && input === undefined)) return undefined;
  return { input, output: [] };
};

/** The `ts` argument for a call without input records (watermark, timers, end of input). */
export const outputTimestampsFor = (op: Operator<unknown, unknown>): Timestamps | undefined =>
  op.timestamps === "assign" ? { input: undefined, output: [] } : undefined;

/**
 * The timestamps of what an operator emitted into `out` given `ts`: undefined when it gave none.
 * An operator that gave some but not one per record broke the contract (an internal error).
 */
export const emittedTimestamps = (operator: string, out: readonly unknown[], ts: Timestamps | undefined): readonly number[] | undefined => {
  if (ts === undefined || ts.output.length === 0) return undefined;
  if (ts.output.length !== out.length) {
    throw internalError("TIMESTAMPS_MISALIGNED", `operator '${operator}' emitted ${out.length} records but ${ts.output.length} timestamps`);
  }
  return ts.output;
};

/** The timestamps of `records[from..to)` (undefined stays undefined). */
export const sliceTimestamps = (ts: readonly number[] | undefined, from: number, to?: number): readonly number[] | undefined =>
  ts === undefined ? undefined : ts.slice(from, to);
