/**
 * The Nexmark generator as a split-based Weir source.
 *
 *   const source = nexmark({ events: 10_000_000, splits: 4, seed: 7 });
 *   const timed = nexmark({ splits: 2, startAt: Date.now() + 3000, endAt: Date.now() + 43_000, ratePerSecond: 100_000 });
 *
 * Split k of P (id `p<P>-<k>`) emits generator counts k, k + P, k + 2P, ... in that order, bounded
 * or not (NEXMARK-SPEC.md §1): every split covers the whole event-time range at the same pace, so
 * windows fire throughout a run. Event id = `config.firstEventId + count`; within a split counts
 * rise, so a split is in event-time order. Bounded (`events` = N): split k emits the counts < N.
 * The position of a split is the index of its next count within the split; since every event is
 * generated from (seed, event id) alone, reopening at any position continues exactly. The ids
 * name P, so a checkpoint taken with another split count (or the old contiguous layout, whose ids
 * were `split-<k>`) reports unknown splits instead of being reinterpreted.
 *
 * Schedule (all against the injected clock `context.now`):
 * - `startAt` (epoch ms): nothing is emitted before it (a reader opened earlier waits).
 * - `ratePerSecond` (all splits together): count n is due at `startAt + n * 1000 / rate` and is
 *   emitted only once due; a split that is behind emits at once what is due (never skips, never
 *   re-bases). Without `startAt` the schedule is anchored at the reader's opening, so that its
 *   next count is due at once. Without a rate: as fast as read.
 * - `endAt` (epoch ms): each split ends (as a bounded split ends) at its first read at or after
 *   `endAt`, whatever it has emitted.
 * `observer` hears, synchronously and once per batch, how far each split got (for run statistics).
 */
import { describeError, isWeirError, userError } from "../../common/errors.ts";
import type { ReadResult, Source, SourceContext, SplitReader } from "../source.ts";
import { generateEvent, nexmarkConfig, type NexmarkConfig } from "./generator.ts";
import type { Event } from "./model.ts";
import { dueCounts, scheduledAt, type Schedule } from "./schedule.ts";

/** Told how far each split got; called synchronously by the readers (keep it cheap). */
export interface NexmarkObserver {
  /** Split `split` (k) opened; `next` is the first count it has not emitted yet. */
  opened(split: number, next: number): void;
  /** Split k emitted `emitted` events; `next` is now the first count it has not emitted. */
  emitted(split: number, next: number, emitted: number): void;
}

export interface NexmarkOptions {
  /** Total events over all splits (counts < events); undefined for an unbounded source. */
  readonly events?: number | undefined;
  /** Default 4. */
  readonly splits?: number;
  /** Emission rate for all splits together (default: as fast as read). */
  readonly ratePerSecond?: number | undefined;
  /** Epoch ms before which nothing is emitted, and the origin of the rate schedule. */
  readonly startAt?: number | undefined;
  /** Epoch ms at which every split ends. */
  readonly endAt?: number | undefined;
  /** Overrides `config.seed`. */
  readonly seed?: bigint | number;
  readonly config?: Partial<NexmarkConfig>;
  readonly name?: string;
  readonly observer?: NexmarkObserver | undefined;
}

/** Split ids of a source with `splits` splits: `p<P>-<k>`. */
export const nexmarkSplitIds = (splits: number): string[] => Array.from({ length: splits }, (_, k) => `p${splits}-${k}`);

/** Longest wait a reader asks for, so that a waiting source task still takes checkpoints promptly. */
const MAX_WAIT_MS = 50;

export const nexmark = (options: NexmarkOptions = {}): Source<Event, number> => {
  const name = options.name ?? "nexmark";
  const splits = options.splits ?? 4;
  const { events, ratePerSecond, startAt, endAt, observer } = options;
  const bad = (message: string) => userError("BAD_SOURCE_OPTIONS", `${name}: ${message}`);
  if (!Number.isSafeInteger(splits) || splits < 1) throw bad(`splits must be a positive integer, got ${splits}`);
  if (events !== undefined && (!Number.isSafeInteger(events) || events < 0)) {
    throw bad(`events must be a whole number >= 0 (or undefined for unbounded), got ${events}`);
  }
  if (ratePerSecond !== undefined && !(ratePerSecond > 0 && Number.isFinite(ratePerSecond))) throw bad(`ratePerSecond must be positive, got ${ratePerSecond}`);
  if (startAt !== undefined && !Number.isFinite(startAt)) throw bad(`startAt must be epoch milliseconds, got ${startAt}`);
  if (endAt !== undefined && !Number.isFinite(endAt)) throw bad(`endAt must be epoch milliseconds, got ${endAt}`);
  const config = nexmarkConfig({ ...options.config, ...(options.seed === undefined ? {} : { seed: options.seed }) });
  const ids = nexmarkSplitIds(splits);

  return {
    name,
    bounded: events !== undefined || endAt !== undefined,
    splits: () => ids,
    openReader(id: string, position: number | undefined, context: SourceContext): SplitReader<Event, number> {
      const k = ids.indexOf(id);
      if (k < 0) throw bad(`unknown split '${id}' (this source has ${ids[0]} .. ${ids[splits - 1]}; a checkpoint of another split layout cannot be resumed)`);
      // Split k holds counts k + i * splits for i < length.
      const length = events === undefined ? Infinity : Math.max(0, Math.ceil((events - k) / splits));
      let next = position ?? 0;
      if (!Number.isSafeInteger(next) || next < 0 || next > length) {
        throw bad(`position ${String(position)} is out of range for ${id} (0 .. ${length})`);
      }
      const countOf = (index: number) => k + index * splits;
      const openedAt = context.now();
      const schedule: Schedule | undefined =
        ratePerSecond === undefined
          ? undefined
          : { startAt: startAt ?? openedAt - (countOf(next) * 1000) / ratePerSecond, rate: ratePerSecond };
      observer?.opened(k, countOf(next));
      return {
        read(max: number): ReadResult<Event> {
          if (next >= length) return { kind: "end" };
          const now = context.now();
          if (endAt !== undefined && now >= endAt) return { kind: "end" };
          if (startAt !== undefined && now < startAt) return { kind: "idle", retryAfterMs: Math.min(MAX_WAIT_MS, Math.max(1, Math.ceil(startAt - now))) };
          let count = Math.min(max, length - next);
          if (schedule !== undefined) {
            // Indexes i with countOf(i) < due are due.
            const due = dueCounts(now, schedule);
            const dueIndexes = due <= k ? 0 : Math.ceil((due - k) / splits);
            count = Math.min(count, dueIndexes - next);
            if (count <= 0) {
              const wait = scheduledAt(countOf(next), schedule) - now;
              return { kind: "idle", retryAfterMs: Math.min(MAX_WAIT_MS, Math.max(1, Math.ceil(wait))) };
            }
          }
          const records = new Array<Event>(count);
          let index = next;
          try {
            for (; index < next + count; index++) records[index - next] = generateEvent(config.firstEventId + countOf(index), config);
          } catch (e) {
            if (isWeirError(e)) throw e;
            throw userError("GENERATOR_FAILED", `${name} threw at ${id} index ${index}: ${describeError(e)}`, { cause: e });
          }
          next += count;
          observer?.emitted(k, countOf(next), count);
          return { kind: "records", records };
        },
        position: () => next,
        close: () => undefined,
      };
    },
  };
};
