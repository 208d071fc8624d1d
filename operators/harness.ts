/**
 * Operator test harness (as Flink's KeyedOneInputStreamOperatorTestHarness): drives one operator
 * subtask directly — records on either input, watermarks, a manual processing-time clock,
 * snapshots, and restore into a new subtask (at any parallelism: state is cut by key group;
 * broadcast state is restored whole).
 *
 * Keyed state lives in a heap backend; a snapshot is a cut of the store, as a checkpoint takes it
 * (sealed, written, then every stored cell copied), awaited before the harness goes on.
 *
 * Processing time is a ManualClock: `setProcessingTime` runs the operator's own clock timers (e.g.
 * async I/O timeouts) and then its due processing-time timers. `wakeups` counts the operator's
 * calls of `context.wake`; `processWakeup` does what a woken task does. `elements` is the output
 * with watermarks in place: an operator with `emitsWatermarks` places them itself, for the
 * others a watermark follows `processWatermark`'s output (as the chain runs them).
 */
import { ManualClock } from "../common/manual-clock.ts";
import { MIN_WATERMARK } from "../common/time.ts";
import { openHeapBackend } from "../state/heap-backend.ts";
import { DEFAULT_MAX_PARALLELISM, keyGroupRangeFor } from "../state/key-groups.ts";
import { KeyedStateStore } from "../state/keyed-store.ts";
import type { KvBackend } from "../state/kv-backend.ts";
import { WatermarkMark, type Operator, type OperatorFactory, type Timestamps } from "./operator.ts";
import { emittedTimestamps, outputTimestampsFor, timestampsFor } from "./timestamps.ts";
import { BroadcastStore, type BroadcastStatesSnapshot } from "../state/broadcast-state.ts";

/** An emitted record or watermark, in emission order. */
export type HarnessElement<O> = { readonly record: O } | { readonly watermark: number };

export interface HarnessSnapshot {
  readonly cells: readonly (readonly [Buffer, Buffer])[];
  readonly watermark: number;
  /** The broadcast states (operators opened with `broadcastStates`). */
  readonly broadcast?: BroadcastStatesSnapshot;
}

export interface HarnessOptions {
  readonly keyed?: boolean;
  readonly subtask?: number;
  readonly parallelism?: number;
  readonly maxParallelism?: number;
  /** Initial processing time (default 0). */
  readonly processingTime?: number;
  readonly restore?: HarnessSnapshot | readonly HarnessSnapshot[];
  /** Cells the store caches before it flushes (default: the store's default). */
  readonly maxCachedCells?: number;
  /** The broadcast states a broadcast process operator declares (gives it a BroadcastStore). */
  readonly broadcastStates?: readonly string[];
}

export class OperatorHarness<I, O> {
  /** Emitted records (watermarks left out). */
  readonly output: O[] = [];
  /** The timestamp of each record of `output` (operators/timestamps.ts), undefined where it has none. */
  readonly timestamps: (number | undefined)[] = [];
  /** Emitted records and watermarks. */
  readonly elements: HarnessElement<O>[] = [];
  private readonly op: Operator<I, O>;
  private readonly backend: KvBackend | undefined;
  private readonly store: KeyedStateStore | undefined;
  private readonly broadcast: BroadcastStore | undefined;
  /** The manual processing-time clock the operator reads. */
  readonly clock: ManualClock;
  private readonly wakes: { count: number };
  private watermark: number;

  private constructor(
    op: Operator<I, O>,
    backend: KvBackend | undefined,
    store: KeyedStateStore | undefined,
    broadcast: BroadcastStore | undefined,
    clock: ManualClock,
    wakes: { count: number },
    watermark: number,
  ) {
    this.op = op;
    this.broadcast = broadcast;
    this.backend = backend;
    this.store = store;
    this.clock = clock;
    this.wakes = wakes;
    this.watermark = watermark;
  }

  /** How often the operator called `context.wake`. */
  get wakeups(): number {
    return this.wakes.count;
  }

  /** Records what one call (given `ts`) emitted; returns its records. */
  private emitted(out: readonly unknown[], ts?: Timestamps): O[] {
    const records: O[] = [];
    const stamps = emittedTimestamps("op", out, ts);
    for (let i = 0; i < out.length; i++) {
      const e = out[i];
      if (e instanceof WatermarkMark) this.elements.push({ watermark: e.timestamp });
      else {
        records.push(e as O);
        this.elements.push({ record: e as O });
        const t = stamps?.[i];
        this.timestamps.push(t === undefined || Number.isNaN(t) ? undefined : t);
      }
    }
    this.output.push(...records);
    return records;
  }

  static async open<I, O>(factory: OperatorFactory<I, O>, options: HarnessOptions = {}): Promise<OperatorHarness<I, O>> {
    const subtask = options.subtask ?? 0;
    const parallelism = options.parallelism ?? 1;
    const maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    const keyed = options.keyed ?? true;
    const restored = options.restore === undefined ? [] : Array.isArray(options.restore) ? options.restore : [options.restore];
    let backend: KvBackend | undefined;
    let store: KeyedStateStore | undefined;
    if (keyed) {
      backend = openHeapBackend();
      const range = keyGroupRangeFor(subtask, parallelism, maxParallelism);
      const ops = restored
        .flatMap((s: HarnessSnapshot) => s.cells)
        .filter(([k]) => {
          const kg = k.readUInt16BE(0);
          return kg >= range.start && kg <= range.end;
        })
        .map(([key, value]) => ({ kind: "put" as const, key, value }));
      if (ops.length > 0) await backend.write(ops);
      store = new KeyedStateStore({ backend, operator: "op", keyGroups: range, ...(options.maxCachedCells === undefined ? {} : { maxCachedCells: options.maxCachedCells }) });
    }
    const clock = new ManualClock(options.processingTime ?? 0);
    const wakes = { count: 0 };
    // Broadcast state: every subtask restores the same copy (any snapshot's; state/broadcast-state.ts).
    const restoredBroadcast = restored.find((s) => s.broadcast !== undefined)?.broadcast;
    const broadcast =
      options.broadcastStates === undefined
        ? undefined
        : new BroadcastStore({ operator: "op", declared: options.broadcastStates, ...(restoredBroadcast === undefined ? {} : { restored: restoredBroadcast }) });
    const op = factory({
      jobName: "harness",
      operatorName: "op",
      subtask,
      parallelism,
      maxParallelism,
      keyedStore: store,
      ...(broadcast === undefined ? {} : { broadcastStore: broadcast }),
      now: () => clock.now(),
      clock,
      wake: () => void wakes.count++,
    });
    await op.open?.();
    const watermark = restored.length === 0 ? MIN_WATERMARK : Math.min(...restored.map((s) => s.watermark));
    return new OperatorHarness(op, backend, store, broadcast, clock, wakes, watermark);
  }

  get currentWatermark(): number {
    return this.watermark;
  }

  /**
   * Records on the (first) input, with their timestamps if given (as a source's watermark
   * strategy gives them); returns what the operator emitted for them.
   */
  async processElements(records: readonly I[], timestamps?: readonly number[]): Promise<O[]> {
    const out: O[] = [];
    const ts = timestampsFor(this.op as Operator<unknown, unknown>, timestamps);
    await this.op.processBatch(records, out, ts);
    return this.emitted(out, ts);
  }

  /** Operator.inputBlocked: a promise while the operator takes no more records (a task would wait for it). */
  inputBlocked(): Promise<void> | undefined {
    return this.op.inputBlocked?.();
  }

  /** The engine's hint that `records` will probably come next on the first input (Operator.prefetch). */
  hint(records: readonly I[]): void {
    this.op.prefetch?.(records);
  }

  /** Records on the second input of a two-input operator. */
  async processElements2(records: readonly unknown[], timestamps?: readonly number[]): Promise<O[]> {
    if (this.op.processBatch2 === undefined) throw new Error("the operator has no second input");
    const out: O[] = [];
    const ts = timestampsFor(this.op as Operator<unknown, unknown>, timestamps);
    await this.op.processBatch2(records, out, ts);
    return this.emitted(out, ts);
  }

  async processWatermark(watermark: number): Promise<O[]> {
    this.watermark = Math.max(this.watermark, watermark);
    const out: O[] = [];
    const ts = outputTimestampsFor(this.op as Operator<unknown, unknown>);
    await this.op.processWatermark?.(watermark, out, ts);
    const records = this.emitted(out, ts);
    if (this.op.emitsWatermarks !== true) this.elements.push({ watermark });
    return records;
  }

  /** Advances the manual clock (running the clock's timers due on the way) and fires the processing-time timers now due. */
  async setProcessingTime(now: number): Promise<O[]> {
    this.clock.advance(now - this.clock.now());
    const out: O[] = [];
    const due = this.op.processingTimeDue?.();
    const ts = outputTimestampsFor(this.op as Operator<unknown, unknown>);
    if (due !== undefined && due <= now) await this.op.processProcessingTime?.(now, out, ts);
    return this.emitted(out, ts);
  }

  /** What a task does when woken (OperatorContext.wake): fires what is due at the current time. */
  processWakeup(): Promise<O[]> {
    return this.setProcessingTime(this.clock.now());
  }

  async endInput(): Promise<O[]> {
    const out: O[] = [];
    const ts = outputTimestampsFor(this.op as Operator<unknown, unknown>);
    await this.op.endInput?.(out, ts);
    return this.emitted(out, ts);
  }

  /** Takes a cut of the operator's state and copies every stored cell. */
  async snapshot(): Promise<HarnessSnapshot> {
    const { backend, store } = this;
    const copy = async () => {
      const cells: (readonly [Buffer, Buffer])[] = [];
      if (backend === undefined) return cells;
      for await (const [k, v] of backend.scan({ gte: Buffer.alloc(0), lt: Buffer.from([0xff, 0xff, 0xff]) })) {
        cells.push([Buffer.from(k), Buffer.from(v)]);
      }
      return cells;
    };
    const broadcast = this.broadcast?.snapshot();
    const cells = store === undefined ? await copy() : (await store.snapshot(copy)).result;
    return { cells, watermark: this.watermark, ...(broadcast === undefined ? {} : { broadcast }) };
  }

  /** Stored cells right now (after a flush), e.g. to check that state was cleaned up. */
  async storedCells(): Promise<number> {
    return (await this.snapshot()).cells.length;
  }

  async close(): Promise<void> {
    await this.op.close?.();
    await this.backend?.close();
  }
}
