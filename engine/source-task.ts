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
 */
import type { Source, SourceContext, SplitReader } from "../connectors/source.ts";
import type { SourceSnapshot } from "../checkpoint/metadata.ts";
import { isWeirError, userError, describeError } from "../common/errors.ts";
import { barrier } from "./elements.ts";
import type { JobMetrics } from "./metrics.ts";
import { Subtask, type SubtaskOptions } from "./subtask.ts";

const YIELD_EVERY_MS = 8;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface SourceTaskOptions extends SubtaskOptions {
  readonly source: Source<unknown, unknown>;
  readonly sourceName: string;
  readonly splits: readonly string[];
  /** Restored positions by split id (absent: from the split's start). */
  readonly positions: Readonly<Record<string, unknown>>;
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
}

export class SourceTask extends Subtask {
  private readonly options: SourceTaskOptions;
  private readonly triggers: { id: number; stop: boolean }[] = [];
  private splits: OpenSplit[] = [];
  private stopped = false;

  constructor(options: SourceTaskOptions) {
    super(options);
    this.options = options;
  }

  /** Positions of this subtask's own splits only (other subtasks report theirs). */
  protected override sourcePositions(): SourceSnapshot[] {
    const positions: Record<string, unknown> = {};
    for (const s of this.splits) positions[s.id] = s.reader.position();
    return [{ operator: this.options.sourceName, positions }];
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
      for (const split of this.options.splits) {
        try {
          const reader = await source.openReader(split, this.options.positions[split], this.options.context);
          this.splits.push({ id: split, reader });
        } catch (e) {
          throw openError(this.options.sourceName, split, e);
        }
      }
      await this.chain.open();
      let active = this.splits.slice();
      let lastYield = performance.now();
      while (active.length > 0 && !cancelled() && !this.stopped) {
        let progressed = false;
        let wait = Infinity;
        const stillActive: OpenSplit[] = [];
        for (const split of active) {
          if (this.triggers.length > 0) await this.takePendingCheckpoints();
          if (this.stopped) break;
          let result = split.reader.read(batchSize);
          if (result instanceof Promise) result = await result;
          if (result.kind === "end") continue;
          stillActive.push(split);
          if (result.kind === "idle") {
            wait = Math.min(wait, result.retryAfterMs);
            continue;
          }
          if (result.records.length === 0) continue;
          progressed = true;
          metrics.sourceRecords += result.records.length;
          const pushed = this.chain.process(result.records);
          if (pushed !== undefined) {
            const blockedFrom = performance.now();
            await pushed;
            metrics.sourceBlockedMs += performance.now() - blockedFrom;
          }
        }
        if (this.stopped) break;
        active = stillActive;
        if (!progressed && active.length > 0) {
          await sleep(Number.isFinite(wait) ? Math.max(1, wait) : 1);
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

  private released = false;

  /** Closes every split reader, once (also called by the runtime when the job is torn down). */
  override async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const s of this.splits) await Promise.resolve(s.reader.close()).catch(() => undefined);
  }
}
