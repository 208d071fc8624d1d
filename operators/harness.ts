/**
 * Operator test harness (as Flink's KeyedOneInputStreamOperatorTestHarness): drives one operator
 * subtask directly — records on either input, watermarks, a manual processing-time clock,
 * snapshots, and restore into a new subtask (at any parallelism: state is cut by key group).
 *
 * Keyed state lives in a heap backend; a snapshot is a cut of the store, as a checkpoint takes it
 * (sealed, written, then every stored cell copied), awaited before the harness goes on.
 */
import { MIN_WATERMARK } from "../common/time.ts";
import { openHeapBackend } from "../state/heap-backend.ts";
import { DEFAULT_MAX_PARALLELISM, keyGroupRangeFor } from "../state/key-groups.ts";
import { KeyedStateStore } from "../state/keyed-store.ts";
import type { KvBackend } from "../state/kv-backend.ts";
import type { Operator, OperatorFactory } from "./operator.ts";

export interface HarnessSnapshot {
  readonly cells: readonly (readonly [Buffer, Buffer])[];
  readonly watermark: number;
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
}

export class OperatorHarness<I, O> {
  readonly output: O[] = [];
  private readonly op: Operator<I, O>;
  private readonly backend: KvBackend | undefined;
  private readonly store: KeyedStateStore | undefined;
  /** The manual processing-time clock the operator reads. */
  private readonly clock: { now: number };
  private watermark: number;

  private constructor(op: Operator<I, O>, backend: KvBackend | undefined, store: KeyedStateStore | undefined, clock: { now: number }, watermark: number) {
    this.op = op;
    this.backend = backend;
    this.store = store;
    this.clock = clock;
    this.watermark = watermark;
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
    const clock = { now: options.processingTime ?? 0 };
    const op = factory({
      jobName: "harness",
      operatorName: "op",
      subtask,
      parallelism,
      maxParallelism,
      keyedStore: store,
      now: () => clock.now,
    });
    await op.open?.();
    const watermark = restored.length === 0 ? MIN_WATERMARK : Math.min(...restored.map((s) => s.watermark));
    return new OperatorHarness(op, backend, store, clock, watermark);
  }

  get currentWatermark(): number {
    return this.watermark;
  }

  /** Records on the (first) input; returns what the operator emitted for them. */
  async processElements(records: readonly I[]): Promise<O[]> {
    const out: O[] = [];
    await this.op.processBatch(records, out);
    this.output.push(...out);
    return out;
  }

  /** The engine's hint that `records` will probably come next on the first input (Operator.prefetch). */
  hint(records: readonly I[]): void {
    this.op.prefetch?.(records);
  }

  /** Records on the second input of a two-input operator. */
  async processElements2(records: readonly unknown[]): Promise<O[]> {
    if (this.op.processBatch2 === undefined) throw new Error("the operator has no second input");
    const out: O[] = [];
    await this.op.processBatch2(records, out);
    this.output.push(...out);
    return out;
  }

  async processWatermark(watermark: number): Promise<O[]> {
    this.watermark = Math.max(this.watermark, watermark);
    const out: O[] = [];
    await this.op.processWatermark?.(watermark, out);
    this.output.push(...out);
    return out;
  }

  /** Advances the manual clock and fires the processing-time timers now due. */
  async setProcessingTime(now: number): Promise<O[]> {
    this.clock.now = now;
    const out: O[] = [];
    const due = this.op.processingTimeDue?.();
    if (due !== undefined && due <= now) await this.op.processProcessingTime?.(now, out);
    this.output.push(...out);
    return out;
  }

  async endInput(): Promise<O[]> {
    const out: O[] = [];
    await this.op.endInput?.(out);
    this.output.push(...out);
    return out;
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
    const cells = store === undefined ? await copy() : (await store.snapshot(copy)).result;
    return { cells, watermark: this.watermark };
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
