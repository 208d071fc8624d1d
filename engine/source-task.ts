/**
 * A source subtask: reads its splits round-robin, a batch at a time, and pushes each batch
 * through its chain; a full downstream channel makes the push wait, so the source stops reading
 * (backpressure). It yields to the event loop every few milliseconds so timers and I/O keep
 * running while the pipeline is busy.
 *
 * Checkpoints: a trigger is taken between two batches: the split positions are recorded, the
 * chain is snapshotted, and barrier n goes to every output channel. After a `stop` trigger the
 * source reads nothing more. When every split has ended, the chain ends its input and the task
 * is finished.
 *
 * Event time (a source with a watermark strategy): each split has its own watermark generator;
 * after every batch the subtask's watermark (minimum over its active splits; the highest split
 * watermark once all are idle, see watermarks.ts) goes downstream when it advanced. Split
 * watermarks are recorded with the positions and restored with them, so a restored run resumes
 * event time where the checkpoint left it.
 *
 * Split discovery (a source with `discovery`): every interval the subtask lists the source's
 * splits again, between two batches, and opens the new ones it owns at the source's new-split
 * position; from then on they are read and checkpointed like the others. A discovered split's
 * watermark starts at the minimum, so it holds the subtask's watermark until it catches up but
 * never takes back event time already sent: its records behind that are late (as in Flink). A
 * subtask of such a source keeps running without splits (idle) until one is discovered. A
 * failed listing fails the task (retriable if the source says so).
 */
import type { Source, SourceContext, SplitReader, SplitSet } from "../connectors/source.ts";
import type { SourceSnapshot } from "../checkpoint/metadata.ts";
import { isWeirError, userError, describeError } from "../common/errors.ts";
import { barrier } from "./elements.ts";
import type { JobMetrics } from "./metrics.ts";
import { SplitWatermarks, type WatermarkGenerator, type WatermarkStrategy } from "./watermarks.ts";
import { userFunctionError } from "../operators/user-error.ts";
import { Subtask, type SubtaskOptions } from "./subtask.ts";
import { sleep, systemClock } from "../common/clock.ts";

const YIELD_EVERY_MS = 8;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface SourceTaskOptions extends SubtaskOptions {
  readonly source: Source<unknown, unknown>;
  readonly sourceName: string;
  readonly splits: readonly string[];
  /** Every split of the source when the run started (this subtask's and the others'). */
  readonly knownSplits: readonly string[];
  readonly subtask: number;
  readonly parallelism: number;
  /** Restored positions by split id (absent: from the split's start). */
  readonly positions: Readonly<Record<string, unknown>>;
  readonly watermarks: WatermarkStrategy<unknown> | undefined;
  /** Restored split watermarks by split id. */
  readonly restoredWatermarks: Readonly<Record<string, number>>;
  readonly batchSize: number;
  readonly context: SourceContext;
  readonly metrics: JobMetrics;
  readonly cancelled: () => boolean;
  /** Called once every split has ended and the chain has ended its input. */
  readonly onFinished: () => void;
}

const openError = (sourceName: string, split: string, e: unknown) =>
  isWeirError(e)
    ? e.withContext({ operator: sourceName })
    : userError("SOURCE_OPEN_FAILED", `source '${sourceName}' could not open split '${split}': ${describeError(e)}`, {
        operator: sourceName,
        cause: e,
      });

interface OpenSplit {
  readonly id: string;
  readonly reader: SplitReader<unknown, unknown>;
  readonly generator: WatermarkGenerator<unknown> | undefined;
}

export class SourceTask extends Subtask {
  private readonly options: SourceTaskOptions;
  private readonly triggers: { id: number; stop: boolean }[] = [];
  private splits: OpenSplit[] = [];
  /** Opened by discovery, not yet in the read loop's rotation. */
  private discovered: OpenSplit[] = [];
  private splitSet: SplitSet<unknown, unknown> | undefined;
  private readonly known: Set<string>;
  private nextDiscovery = Infinity;
  private stopped = false;
  private readonly watermarks: SplitWatermarks | undefined;

  constructor(options: SourceTaskOptions) {
    super(options);
    this.options = options;
    this.watermarks = options.watermarks === undefined ? undefined : new SplitWatermarks(options.watermarks.idleTimeoutMs);
    this.known = new Set(options.knownSplits);
    const discovery = options.source.discovery;
    if (discovery !== undefined && !options.source.bounded) this.nextDiscovery = options.context.now() + discovery.intervalMs;
  }

  /** Opens `splits` (through the source's split set when it has one) and adds them to this subtask. */
  private async open(splits: readonly { split: string; position: unknown }[]): Promise<OpenSplit[]> {
    const { source, context, sourceName } = this.options;
    let readers: SplitReader<unknown, unknown>[];
    if (source.openSplitSet !== undefined) {
      this.splitSet ??= source.openSplitSet(context);
      try {
        readers = await this.splitSet.add(splits);
      } catch (e) {
        throw openError(sourceName, splits.map((s) => s.split).join(", "), e);
      }
    } else {
      readers = [];
      for (const { split, position } of splits) {
        try {
          readers.push(await source.openReader(split, position, context));
        } catch (e) {
          throw openError(sourceName, split, e);
        }
      }
    }
    const opened = splits.map(({ split }, i) => ({ id: split, reader: readers[i]!, generator: this.options.watermarks?.createGenerator() }));
    for (const s of opened) {
      this.splits.push(s);
      this.watermarks?.add(s.id, this.options.restoredWatermarks[s.id], context.now());
    }
    return opened;
  }

  /** Lists the source's splits and opens the new ones this subtask owns (see the file comment). */
  private async discover(): Promise<void> {
    const { source, context, subtask, parallelism, sourceName } = this.options;
    const discovery = source.discovery!;
    let listed: readonly string[];
    try {
      listed = await source.splits(context);
    } catch (e) {
      throw isWeirError(e)
        ? e.withContext({ operator: sourceName })
        : userError("SOURCE_SPLITS_FAILED", `source '${sourceName}' could not list its splits: ${describeError(e)}`, { operator: sourceName, cause: e });
    }
    const mine: { split: string; position: unknown }[] = [];
    for (const split of [...listed].sort()) {
      if (this.known.has(split)) continue;
      this.known.add(split);
      if (discovery.owner(split, parallelism) === subtask) mine.push({ split, position: discovery.newSplitPosition(split) });
    }
    if (mine.length > 0) this.discovered.push(...(await this.open(mine)));
    this.nextDiscovery = context.now() + discovery.intervalMs;
  }

  /** Positions (and watermarks) of this subtask's own splits only (other subtasks report theirs). */
  protected override sourcePositions(): SourceSnapshot[] {
    const positions: Record<string, unknown> = {};
    for (const s of this.splits) positions[s.id] = s.reader.position();
    const snapshot: SourceSnapshot = { operator: this.options.sourceName, positions };
    return [this.watermarks === undefined ? snapshot : { ...snapshot, watermarks: this.watermarks.snapshot() }];
  }

  /**
   * Timestamps a batch's records with the strategy's timestamp function, once per record: the
   * split's generator sees each, and the records carry them downstream (operators/timestamps.ts).
   */
  private observe(split: OpenSplit, records: readonly unknown[]): number[] {
    const generator = split.generator!;
    const timestamp = this.options.watermarks!.timestamp;
    const timestamps = new Array<number>(records.length);
    let i = 0;
    try {
      for (; i < records.length; i++) {
        const r = records[i];
        const t = timestamp(r);
        timestamps[i] = t;
        generator.onEvent(r, t);
      }
    } catch (e) {
      throw userFunctionError(`${this.options.sourceName} (watermark strategy, split '${split.id}')`, records[i], i, e);
    }
    return timestamps;
  }

  /**
   * Sends the subtask's watermark (or idleness) downstream if it changed. Going idle, the
   * watermark first advances to the highest split watermark (see SplitWatermarks).
   */
  private emitWatermark(): Promise<void> | undefined {
    const update = this.watermarks?.update();
    if (update === undefined) return undefined;
    if (update.kind === "watermark") return this.chain.processWatermark(update.timestamp);
    const flushTo = update.flushTo;
    if (flushTo === undefined) return this.chain.processIdle();
    return this.chain.processWatermark(flushTo).then(() => this.chain.processIdle());
  }

  override onTrigger(id: number, stop = false): Promise<void> {
    if (this.finished || this.stopped) return this.snapshotFinished(id);
    this.triggers.push({ id, stop });
    return Promise.resolve();
  }

  private async takePendingCheckpoints(): Promise<void> {
    while (this.triggers.length > 0 && !this.options.cancelled()) {
      const { id, stop } = this.triggers.shift()!;
      const asyncPart = await this.snapshotSync(id);
      const forwarded = this.chain.broadcast(barrier(id, this.bridge.triggeredAt(id)));
      if (forwarded !== undefined) await forwarded;
      this.finishSnapshot(id, asyncPart);
      if (stop) this.stopped = true;
    }
  }

  async run(): Promise<void> {
    const { source, batchSize, metrics, cancelled } = this.options;
    try {
      if (this.options.splits.length > 0) await this.open(this.options.splits.map((split) => ({ split, position: this.options.positions[split] })));
      await this.chain.open();
      // A restored run announces its splits' checkpointed watermark before any record, so records
      // are late (or not) exactly as they would have been without the failure.
      if (this.watermarks !== undefined) await this.emitWatermark();
      let active = this.splits.slice();
      let lastYield = performance.now();
      // Without splits, a discovering subtask waits for some: idle, so it holds no watermark back.
      if (active.length === 0 && Number.isFinite(this.nextDiscovery)) await this.chain.processIdle();
      while ((active.length > 0 || Number.isFinite(this.nextDiscovery)) && !cancelled() && !this.stopped) {
        if (this.options.context.now() >= this.nextDiscovery) await this.discover();
        if (this.discovered.length > 0) active.push(...this.discovered.splice(0));
        if (active.length === 0) {
          if (this.triggers.length > 0) await this.takePendingCheckpoints();
          await this.idle(Math.max(1, Math.min(50, this.nextDiscovery - this.options.context.now())));
          continue;
        }
        let progressed = false;
        let wait = Infinity;
        const stillActive: OpenSplit[] = [];
        for (const split of active) {
          if (this.triggers.length > 0) await this.takePendingCheckpoints();
          if (this.stopped) break;
          let result = split.reader.read(batchSize);
          if (result instanceof Promise) result = await result;
          const lag = split.reader.lag?.();
          if (lag !== undefined) (this.taskMetrics.lag ??= {})[split.id] = lag;
          if (result.dropped !== undefined) {
            metrics.sourceSkipped += result.dropped.skipped;
            metrics.sourceDeadLettered += result.dropped.deadLettered;
          }
          if (result.kind === "end") {
            if (this.watermarks !== undefined) {
              this.watermarks.onEnd(split.id);
              await this.emitWatermark();
            }
            continue;
          }
          stillActive.push(split);
          if (result.kind === "idle" || result.records.length === 0) {
            if (result.kind === "idle") wait = Math.min(wait, result.retryAfterMs);
            if (this.watermarks !== undefined) {
              this.watermarks.onNoData(split.id, this.options.context.now());
              await this.emitWatermark();
            }
            continue;
          }
          progressed = true;
          metrics.sourceRecords += result.records.length;
          const timestamps = split.generator === undefined ? undefined : this.observe(split, result.records);
          const pushed = this.chain.process(result.records, timestamps);
          if (pushed !== undefined) {
            const blockedFrom = performance.now();
            await pushed;
            metrics.sourceBlockedMs += performance.now() - blockedFrom;
          }
          if (split.generator !== undefined) {
            this.watermarks!.onBatch(split.id, split.generator.currentWatermark(), this.options.context.now());
            const sent = this.emitWatermark();
            if (sent !== undefined) await sent;
          }
        }
        if (this.stopped) break;
        active = stillActive;
        if (!progressed && active.length > 0) {
          await this.idle(Number.isFinite(wait) ? Math.max(1, wait) : 1);
          lastYield = performance.now();
        } else if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      if (cancelled()) return;
      if (this.stopped) {
        // Stopped by a stop-with-checkpoint: checkpoints triggered from now on see this state.
        for (const { id } of this.triggers.splice(0)) await this.snapshotFinished(id);
        return;
      }
      // Every split ended. A checkpoint triggered meanwhile is taken as finished (no barrier).
      await this.chain.endInput();
      const queued = this.triggers.splice(0);
      await this.markFinished();
      for (const { id } of queued) await this.snapshotFinished(id);
      this.options.onFinished();
    } finally {
      await this.release();
    }
  }

  /** Waits `ms` with nothing to read (counted as idle time). */
  private async idle(ms: number): Promise<void> {
    const from = performance.now();
    await sleep(systemClock, ms);
    this.taskMetrics.idleMs += performance.now() - from;
  }

  private released = false;

  /** Closes every split reader, once (also called by the runtime when the job is torn down). */
  override async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const s of this.splits) await Promise.resolve(s.reader.close()).catch(() => undefined);
    await this.splitSet?.close().catch(() => undefined);
  }
}
