/**
 * Event time: watermark strategies (what a user attaches to a source) and the two pure pieces
 * that combine watermarks, one at the source (over its splits) and one at every task with input
 * channels (over its channels).
 *
 * A watermark `w` says: no record with timestamp <= w follows. Watermarks only move forward;
 * a generator that goes back is ignored. Timestamps are ms since the epoch (any integer).
 *
 * Idleness: a split that has delivered nothing for `idleTimeoutMs` of processing time no longer
 * holds back the source's watermark; a channel whose producer declared itself idle no longer
 * holds back its consumer's. When every input is idle, the watermark advances to the highest one
 * any of them reached (none of them is moving), then the output is idle. A channel that resumes
 * behind its task's watermark counts again only once it has caught up. Records that reach an
 * operator after it advanced past them because an input was idle are late (as in Flink); with no
 * idleness and splits ordered in event time, no record is ever late.
 */
import { durationMillis } from "../common/duration.ts";
import { userError } from "../common/errors.ts";

import { MAX_WATERMARK, MIN_WATERMARK } from "../common/time.ts";

export { MAX_WATERMARK, MIN_WATERMARK };

/** Per split: sees each record's timestamp, says what the watermark is now. */
export interface WatermarkGenerator<T> {
  onEvent(record: T, timestamp: number): void;
  currentWatermark(): number;
}

export interface WatermarkStrategy<T> {
  /** The record's event time (ms). Must not throw for well-formed records. */
  readonly timestamp: (record: T) => number;
  /** One generator per split. */
  readonly createGenerator: () => WatermarkGenerator<T>;
  /** A split silent for this long (processing time) stops holding back the watermark; undefined: never. */
  readonly idleTimeoutMs: number | undefined;
}

export interface StrategyOptions {
  /** e.g. "30s"; default: a split never counts as idle. */
  readonly idleTimeout?: number | string;
}

const durationArg = (fn: string, what: string, value: number | string): number => {
  const ms = durationMillis(value);
  if (ms === undefined || ms < 0) {
    throw userError("BAD_WATERMARK_STRATEGY", `${fn}: ${what} must be a duration >= 0 such as "4s" or 4000, got ${JSON.stringify(value)}`);
  }
  return ms;
};

const idleOf = (fn: string, options: StrategyOptions): number | undefined =>
  options.idleTimeout === undefined ? undefined : durationArg(fn, "idleTimeout", options.idleTimeout);

/** Watermark = highest timestamp seen - maxOutOfOrderness - 1 (Flink's BoundedOutOfOrdernessWatermarks). */
export const boundedOutOfOrderness = <T>(
  timestamp: (record: T) => number,
  maxOutOfOrderness: number | string,
  options: StrategyOptions = {},
): WatermarkStrategy<T> => {
  const delay = durationArg("boundedOutOfOrderness", "maxOutOfOrderness", maxOutOfOrderness);
  return {
    timestamp,
    idleTimeoutMs: idleOf("boundedOutOfOrderness", options),
    createGenerator: () => {
      let max = MIN_WATERMARK + delay + 1;
      return {
        onEvent: (_record, ts) => {
          if (ts > max) max = ts;
        },
        currentWatermark: () => max - delay - 1,
      };
    },
  };
};

/** Timestamps ascend within a split: watermark = highest timestamp seen - 1. */
export const monotonousTimestamps = <T>(timestamp: (record: T) => number, options: StrategyOptions = {}): WatermarkStrategy<T> =>
  boundedOutOfOrderness(timestamp, 0, { ...options });

/** A strategy with the user's own generator (e.g. punctuated watermarks carried by the records). */
export const customWatermarks = <T>(
  timestamp: (record: T) => number,
  createGenerator: () => WatermarkGenerator<T>,
  options: StrategyOptions = {},
): WatermarkStrategy<T> => ({ timestamp, createGenerator, idleTimeoutMs: idleOf("customWatermarks", options) });

/**
 * A combined watermark, or the news that every input is idle. Going idle, event time may first
 * advance to `flushTo`: the highest watermark any open input reached (none of them will advance
 * while idle, so nothing holds time back below it).
 */
export type WatermarkUpdate =
  | { readonly kind: "watermark"; readonly timestamp: number }
  | { readonly kind: "idle"; readonly flushTo: number | undefined };

interface InputState {
  watermark: number;
  idle: boolean;
  ended: boolean;
  /**
   * Counts in the minimum. A channel that resumes from idle behind the watermark already sent
   * is left out until it catches up (Flink's valve); a split is always aligned (Flink's
   * source combines its splits without this).
   */
  aligned: boolean;
}

interface SplitState extends InputState {
  lastActive: number;
}

/**
 * Combines inputs into what to send downstream, remembering what it sent. Ended inputs are done
 * (they hold nothing back and never count in the maximum); idle and unaligned ones are left out
 * of the minimum. When every open input is idle, event time first advances to the highest
 * watermark over them (as Flink's StatusWatermarkValve and, since Flink 2.2, its source split
 * combination do), then the combination is idle. When every input has ended: MAX_WATERMARK.
 */
class Combination {
  /** The last watermark sent; never decreases. */
  emitted = MIN_WATERMARK;
  private idle = false;

  next(inputs: Iterable<InputState>): WatermarkUpdate | undefined {
    let min = MAX_WATERMARK;
    let max = MIN_WATERMARK;
    let open = 0;
    let active = 0;
    let aligned = 0;
    for (const s of inputs) {
      if (s.ended) continue;
      open++;
      if (s.watermark > max) max = s.watermark;
      if (s.idle) continue;
      active++;
      if (!s.aligned) continue;
      aligned++;
      if (s.watermark < min) min = s.watermark;
    }
    if (open > 0 && active === 0) {
      if (this.idle) return undefined;
      this.idle = true;
      if (max <= this.emitted) return { kind: "idle", flushTo: undefined };
      this.emitted = max;
      return { kind: "idle", flushTo: max };
    }
    const wasIdle = this.idle;
    this.idle = false;
    // Open inputs that are active but all unaligned: nothing may advance time yet.
    if ((open === 0 || aligned > 0) && min > this.emitted) {
      this.emitted = min;
      return { kind: "watermark", timestamp: min };
    }
    // Active again without a new watermark: resume with the last one (which un-idles downstream).
    return wasIdle ? { kind: "watermark", timestamp: this.emitted } : undefined;
  }
}

/**
 * A source subtask's splits: the subtask's watermark is the minimum over its splits that are
 * neither idle nor ended; when every split is idle it advances to the highest split watermark,
 * then the subtask is idle. A split that resumes behind the subtask's watermark holds it until
 * the split catches up (as Flink's source does: splits are not re-aligned). Restored splits start
 * at their checkpointed watermark. Pure: the caller passes processing time in.
 */
export class SplitWatermarks {
  private readonly splits = new Map<string, SplitState>();
  private readonly idleTimeoutMs: number | undefined;
  private readonly combined = new Combination();

  constructor(idleTimeoutMs: number | undefined) {
    this.idleTimeoutMs = idleTimeoutMs;
  }

  add(split: string, restored: number | undefined, now: number): void {
    this.splits.set(split, { watermark: restored ?? MIN_WATERMARK, lastActive: now, idle: false, ended: false, aligned: true });
  }

  /** The split's generator reports `watermark` after a batch (a lower value is ignored). */
  onBatch(split: string, watermark: number, now: number): void {
    const s = this.state(split);
    if (watermark > s.watermark) s.watermark = watermark;
    s.lastActive = now;
    s.idle = false;
  }

  /** The split had nothing to read at `now`. */
  onNoData(split: string, now: number): void {
    const s = this.state(split);
    if (this.idleTimeoutMs !== undefined && now - s.lastActive >= this.idleTimeoutMs) s.idle = true;
  }

  onEnd(split: string): void {
    const s = this.state(split);
    s.ended = true;
    s.watermark = MAX_WATERMARK;
  }

  /**
   * Each split's watermark, for a checkpoint: never below what this subtask already sent (an idle
   * split may lag behind it), so a restored run does not take back event time that downstream
   * already acted on.
   */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, s] of this.splits) out[id] = Math.max(s.watermark, this.combined.emitted);
    return out;
  }

  /** What to send downstream now, if anything changed (nothing while the subtask has no splits). */
  update(): WatermarkUpdate | undefined {
    if (this.splits.size === 0) return undefined;
    return this.combined.next(this.splits.values());
  }

  private state(split: string): SplitState {
    const s = this.splits.get(split);
    if (s === undefined) throw new Error(`unknown split ${split}`);
    return s;
  }
}

/**
 * A task's input channels (Flink's StatusWatermarkValve): the task's watermark is the minimum
 * over channels that are neither idle nor ended; a batch or watermark on an idle channel makes
 * it active again, but it counts in the minimum only once its watermark has caught up with the
 * task's (so a channel that was idle while time moved on does not hold time back; its records
 * behind the watermark are late). When every channel is idle, the watermark advances to the
 * highest channel watermark and the task is idle. When every channel has ended the watermark is
 * MAX_WATERMARK.
 */
export class WatermarkValve {
  private readonly channels: InputState[];
  private readonly combined = new Combination();

  constructor(channelCount: number) {
    this.channels = Array.from({ length: channelCount }, () => ({ watermark: MIN_WATERMARK, idle: false, ended: false, aligned: true }));
  }

  get current(): number {
    return this.combined.emitted;
  }

  onWatermark(channel: number, timestamp: number): WatermarkUpdate | undefined {
    const c = this.channels[channel]!;
    if (timestamp > c.watermark) c.watermark = timestamp;
    this.activate(c);
    return this.combined.next(this.channels);
  }

  /** A batch arrived: an idle channel is active again (its watermark is what it last sent). */
  onRecords(channel: number): WatermarkUpdate | undefined {
    const c = this.channels[channel]!;
    if (!c.idle) return undefined;
    this.activate(c);
    return this.combined.next(this.channels);
  }

  onIdle(channel: number): WatermarkUpdate | undefined {
    const c = this.channels[channel]!;
    c.idle = true;
    c.aligned = false;
    return this.combined.next(this.channels);
  }

  onEnd(channel: number): WatermarkUpdate | undefined {
    const c = this.channels[channel]!;
    c.ended = true;
    c.watermark = MAX_WATERMARK;
    return this.combined.next(this.channels);
  }

  /** Active; aligned once its watermark is not behind what the task already sent. */
  private activate(c: InputState): void {
    c.idle = false;
    if (c.watermark >= this.combined.emitted) c.aligned = true;
  }
}
