/**
 * Test harnesses for a job's functions (as Flink's KeyedOneInputStreamOperatorTestHarness): one
 * subtask of a process function driven directly, without a job — records on either input,
 * watermarks, a manual processing-time clock, side outputs, snapshots, and restore into a new
 * harness at another parallelism (state and timers are cut by key group, as on rescaling).
 *
 * ```ts
 * const h = await keyedProcessHarness(runningTotal, { key: (t: Transaction) => t.account });
 * await h.processElements([{ account: 1, amount: 5 }]);
 * const snap = await h.snapshot();
 * const after = await keyedProcessHarness(runningTotal, { key: ..., restore: snap, parallelism: 2, subtask: 1 });
 * ```
 */
import { keyedCoProcessOperator, keyedProcessOperator, type KeyedCoProcessFunction, type KeyedProcessFunction } from "../operators/keyed-process.ts";
import { OperatorHarness, type HarnessSnapshot } from "../operators/harness.ts";
import type { OperatorFactory } from "../operators/operator.ts";
import { processOperator, type ProcessFunction } from "../operators/process.ts";
import { isSideRecord, SideOutputs, type OutputTag } from "../operators/side-output.ts";
import type { StateSpec } from "../state/descriptors.ts";
import type { KeyValue } from "../state/key-groups.ts";

export type { HarnessSnapshot } from "../operators/harness.ts";

export interface HarnessSettings {
  /** This harness's subtask (default 0) of `parallelism` (default 1). */
  readonly subtask?: number;
  readonly parallelism?: number;
  /** The job's key-group count (default 128). */
  readonly maxParallelism?: number;
  /** Processing time at start (default 0). */
  readonly processingTime?: number;
  /** Snapshots of earlier harnesses (of any parallelism) to restore this subtask's share from. */
  readonly restore?: HarnessSnapshot | readonly HarnessSnapshot[];
}

/**
 * One subtask of a function. Each call returns the main records it emitted; `output` holds all
 * main records so far and `sideOutput(tag)` all side-output values so far.
 */
export class FunctionHarness<I, O, I2 = never> {
  private readonly inner: OperatorHarness<I, unknown>;
  readonly output: O[] = [];
  private readonly side = new Map<string, unknown[]>();

  constructor(inner: OperatorHarness<I, unknown>) {
    this.inner = inner;
  }

  private keep(emitted: readonly unknown[]): O[] {
    const main: O[] = [];
    for (const r of emitted) {
      if (isSideRecord(r)) {
        const list = this.side.get(r.weirSideOutput) ?? [];
        list.push(r.value);
        this.side.set(r.weirSideOutput, list);
      } else {
        main.push(r as O);
      }
    }
    this.output.push(...main);
    return main;
  }

  sideOutput<X>(tag: OutputTag<X>): X[] {
    return [...((this.side.get(tag.id) as X[] | undefined) ?? [])];
  }

  get currentWatermark(): number {
    return this.inner.currentWatermark;
  }

  /**
   * Records on the (first) input, as one batch, with the timestamps their source's watermark
   * strategy would give them (`ctx.timestamp`; default: none).
   */
  async processElements(records: readonly I[], timestamps?: readonly number[]): Promise<O[]> {
    return this.keep(await this.inner.processElements(records, timestamps));
  }

  async processElement(record: I, timestamp?: number): Promise<O[]> {
    return this.processElements([record], timestamp === undefined ? undefined : [timestamp]);
  }

  /** Records on the second input of a co-process function (timestamps as for the first). */
  async processElements2(records: readonly I2[], timestamps?: readonly number[]): Promise<O[]> {
    return this.keep(await this.inner.processElements2(records, timestamps));
  }

  /** Event time reaches `watermark`: due event-time timers fire. */
  async processWatermark(watermark: number): Promise<O[]> {
    return this.keep(await this.inner.processWatermark(watermark));
  }

  /** Sets the manual processing-time clock: due processing-time timers fire. */
  async setProcessingTime(now: number): Promise<O[]> {
    return this.keep(await this.inner.setProcessingTime(now));
  }

  /** The input ended (a bounded job's end). */
  async endInput(): Promise<O[]> {
    return this.keep(await this.inner.endInput());
  }

  /** A snapshot of this subtask's state and timers, as a checkpoint takes it. */
  snapshot(): Promise<HarnessSnapshot> {
    return this.inner.snapshot();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const open = async <I, O, I2 = never>(factory: OperatorFactory<I, unknown>, keyed: boolean, settings: HarnessSettings): Promise<FunctionHarness<I, O, I2>> => {
  const inner = await OperatorHarness.open(factory, {
    keyed,
    ...(settings.subtask === undefined ? {} : { subtask: settings.subtask }),
    ...(settings.parallelism === undefined ? {} : { parallelism: settings.parallelism }),
    ...(settings.maxParallelism === undefined ? {} : { maxParallelism: settings.maxParallelism }),
    ...(settings.processingTime === undefined ? {} : { processingTime: settings.processingTime }),
    ...(settings.restore === undefined ? {} : { restore: settings.restore }),
  });
  return new FunctionHarness<I, O, I2>(inner);
};

/** A keyed process function (`keyBy(key).process(fn)`), one subtask. */
export const keyedProcessHarness = <T, K extends KeyValue, O, S extends StateSpec>(
  fn: KeyedProcessFunction<T, K, O, S>,
  settings: HarnessSettings & { readonly key: (value: T) => K },
): Promise<FunctionHarness<T, O>> =>
  open<T, O>(keyedProcessOperator({ name: "harness", key: settings.key, fn, sideOutputs: new SideOutputs({ everything: true }) }), true, settings);

/** A two-input keyed function (`a.connect(b).keyBy(key1, key2).process(fn)`), one subtask. */
export const coProcessHarness = <T1, T2, K extends KeyValue, O, S extends StateSpec>(
  fn: KeyedCoProcessFunction<T1, T2, K, O, S>,
  settings: HarnessSettings & { readonly key1: (value: T1) => K; readonly key2: (value: T2) => K },
): Promise<FunctionHarness<T1, O, T2>> =>
  open<T1, O, T2>(
    keyedCoProcessOperator({ name: "harness", key1: settings.key1, key2: settings.key2, fn, sideOutputs: new SideOutputs({ everything: true }) }),
    true,
    settings,
  );

/** A non-keyed process function (`stream.process(fn)`), one subtask. */
export const processHarness = <T, O>(fn: ProcessFunction<T, O>, settings: Omit<HarnessSettings, "restore" | "maxParallelism"> = {}): Promise<FunctionHarness<T, O>> =>
  open<T, O>(processOperator("harness", fn, new SideOutputs({ everything: true })), false, settings);
