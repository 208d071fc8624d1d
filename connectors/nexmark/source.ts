/**
 * The Nexmark generator as a split-based Weir source.
 *
 *   const source = nexmark({ events: 10_000_000, splits: 4, seed: 7 });
 *
 * Bounded (`events` given): split k owns the contiguous generator counts
 * [floor(k*events/splits), floor((k+1)*events/splits)), as Flink's and Beam's parallel generators
 * do. Unbounded (`events` undefined): split k owns counts k, k + splits, k + 2*splits, ...
 * Either way a split emits in count order, which is event-id and event-time order, and event id =
 * `config.firstEventId + count`. The position of a split is the index of its next event within the
 * split; since every event is generated from (seed, event id) alone, reopening at any position
 * continues exactly. `ratePerSecond` (all splits together) paces emission against the injected
 * clock, like generator-source.ts; event time is synthetic (config.firstEventRate) either way.
 */
import { describeError, isWeirError, userError } from "../../common/errors.ts";
import { createPacer } from "../pacer.ts";
import type { ReadResult, Source, SourceContext, SplitReader } from "../source.ts";
import { generateEvent, nexmarkConfig, type NexmarkConfig } from "./generator.ts";
import type { Event } from "./model.ts";

export interface NexmarkOptions {
  /** Total events over all splits; undefined for an unbounded source. */
  readonly events?: number | undefined;
  /** Default 4. */
  readonly splits?: number;
  /** Emission rate for all splits together (default: as fast as read). */
  readonly ratePerSecond?: number;
  /** Overrides `config.seed`. */
  readonly seed?: bigint | number;
  readonly config?: Partial<NexmarkConfig>;
  readonly name?: string;
}

const PREFIX = "split-";

export const nexmark = (options: NexmarkOptions = {}): Source<Event, number> => {
  const name = options.name ?? "nexmark";
  const splits = options.splits ?? 4;
  const { events, ratePerSecond } = options;
  const bad = (message: string) => userError("BAD_SOURCE_OPTIONS", `${name}: ${message}`);
  if (!Number.isSafeInteger(splits) || splits < 1) throw bad(`splits must be a positive integer, got ${splits}`);
  if (events !== undefined && (!Number.isSafeInteger(events) || events < 0)) {
    throw bad(`events must be a whole number >= 0 (or undefined for unbounded), got ${events}`);
  }
  if (ratePerSecond !== undefined && !(ratePerSecond > 0)) throw bad(`ratePerSecond must be positive, got ${ratePerSecond}`);
  const config = nexmarkConfig({ ...options.config, ...(options.seed === undefined ? {} : { seed: options.seed }) });
  const width = String(splits - 1).length;
  const ids = Array.from({ length: splits }, (_, k) => `${PREFIX}${String(k).padStart(width, "0")}`);

  /** First count and stride of split k, and how many events it has. */
  const layout = (k: number): { first: number; stride: number; length: number } =>
    events === undefined
      ? { first: k, stride: splits, length: Infinity }
      : {
          first: Math.floor((k * events) / splits),
          stride: 1,
          length: Math.floor(((k + 1) * events) / splits) - Math.floor((k * events) / splits),
        };

  return {
    name,
    bounded: events !== undefined,
    splits: () => ids,
    openReader(id: string, position: number | undefined, context: SourceContext): SplitReader<Event, number> {
      const k = ids.indexOf(id);
      if (k < 0) throw bad(`unknown split '${id}' (this source has ${ids[0]} .. ${ids[splits - 1]})`);
      const { first, stride, length } = layout(k);
      let next = position ?? 0;
      if (!Number.isSafeInteger(next) || next < 0 || next > length) {
        throw bad(`position ${String(position)} is out of range for ${id} (0 .. ${length})`);
      }
      const pacer = createPacer(ratePerSecond === undefined ? undefined : ratePerSecond / splits, context.now);
      const startIndex = next;
      return {
        read(max: number): ReadResult<Event> {
          if (next >= length) return { kind: "end" };
          const count = pacer.allow(Math.min(max, length - next), next - startIndex);
          if (count === 0) return { kind: "idle", retryAfterMs: pacer.retryAfterMs };
          const records = new Array<Event>(count);
          let index = next;
          try {
            for (; index < next + count; index++) {
              records[index - next] = generateEvent(config.firstEventId + first + index * stride, config);
            }
          } catch (e) {
            if (isWeirError(e)) throw e;
            throw userError("GENERATOR_FAILED", `${name} threw at ${id} index ${index}: ${describeError(e)}`, { cause: e });
          }
          next += count;
          return { kind: "records", records };
        },
        position: () => next,
        close: () => undefined,
      };
    },
  };
};
