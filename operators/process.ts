/**
 * Non-keyed process functions (Flink's ProcessFunction on a DataStream): the general one-input
 * operator without keyed state or timers. It sees each record with a small context (subtask,
 * clocks, side outputs) and emits any number of records with `out.collect`.
 *
 * ```ts
 * const parsed = lines.process({
 *   processElement(line, ctx, out) {
 *     const r = tryParse(line);
 *     if (r === undefined) ctx.output(badLines, line);
 *     else out.collect(r);
 *   },
 * });
 * parsed.sideOutput(badLines).sink(toFiles("out/bad"));
 * ```
 *
 * Keyed state and timers need a key: use `keyBy(...).process(...)` for them.
 */
import { MIN_WATERMARK } from "../common/time.ts";
import type { Collector, Operator, OperatorContext, OperatorFactory, ProcessResult } from "./operator.ts";
import { SideOutputs, type OutputTag } from "./side-output.ts";
import { NO_TIMESTAMP } from "./timestamps.ts";
import { requireNothing, userFunctionError } from "./user-error.ts";

export interface ProcessContext {
  readonly subtask: number;
  readonly parallelism: number;
  /**
   * The timestamp of the record being processed (Flink's Context.timestamp()): the one its
   * source's watermark strategy gave it, handed on by the operators between; undefined when it has none.
   */
  readonly timestamp: number | undefined;
  /** The operator's current event time (MIN_WATERMARK before the first watermark). */
  currentWatermark(): number;
  currentProcessingTime(): number;
  /** Emits `value` on the side output `tag` (dropped unless the job selects it with `sideOutput(tag)`). */
  output<X>(tag: OutputTag<X>, value: X): void;
}

export interface ProcessFunction<T, O> {
  processElement(value: T, context: ProcessContext, out: Collector<O>): ProcessResult;
  /** Called once when the input has ended (a bounded job), before downstream ends. */
  endInput?(context: ProcessContext, out: Collector<O>): ProcessResult;
}

export const processOperator =
  <T, O>(name: string, fn: ProcessFunction<T, O>, sideOutputs: SideOutputs = new SideOutputs()): OperatorFactory<T, O> =>
  (context: OperatorContext): Operator<T, O> => {
    let target: unknown[] = [];
    /** The output's timestamps while the input has some (else undefined), and the current record's. */
    let stamps: number[] | undefined;
    let current = NO_TIMESTAMP;
    let watermark = MIN_WATERMARK;
    const collector: Collector<O> = {
      collect: (value) => {
        target.push(value);
        if (stamps !== undefined) stamps.push(current);
      },
    };
    const ctx = {
      subtask: context.subtask,
      parallelism: context.parallelism,
      timestamp: undefined as number | undefined,
      currentWatermark: () => watermark,
      currentProcessingTime: context.now,
      output: <X>(tag: OutputTag<X>, value: X) => sideOutputs.emit(target, tag, value, stamps, current),
    };
    return {
      timestamps: "propagate",
      processBatch(records, out, ts) {
        target = out;
        stamps = ts?.output;
        const input = ts?.input;
        let i = 0;
        try {
          for (; i < records.length; i++) {
            if (input !== undefined) {
              current = input[i]!;
              ctx.timestamp = Number.isNaN(current) ? undefined : current;
            }
            requireNothing(fn.processElement(records[i]!, ctx, collector));
          }
        } catch (e) {
          throw userFunctionError(name, records[i], i, e);
        } finally {
          stamps = undefined;
          ctx.timestamp = undefined;
        }
      },
      processWatermark(w) {
        watermark = w;
      },
      endInput(out) {
        if (fn.endInput === undefined) return;
        target = out;
        try {
          requireNothing(fn.endInput(ctx, collector));
        } catch (e) {
          throw userFunctionError(`${name} (endInput)`, "end of input", 0, e);
        }
      },
    };
  };
