/**
 * A deterministic generator source: a fixed number of splits, each producing its own ordered
 * sequence `generate({ split, index, random })` for index 0, 1, 2, ... The position of a split is
 * the next index, and `random` is seeded from (seed, split, index), so a split reopened at any
 * position continues exactly where it stopped.
 *
 * Bounded when `recordsPerSplit` is given (a number, or a function of the split), unbounded
 * otherwise. `ratePerSecond` (for all splits together) paces emission against the injected clock.
 */
import { describeError, isWeirError, userError } from "../common/errors.ts";
import { SeededRandom, type Random } from "./random.ts";
import { createPacer } from "./pacer.ts";
import type { ReadResult, Source, SourceContext, SplitReader } from "./source.ts";

export interface GeneratorContext {
  readonly split: number;
  readonly index: number;
  readonly random: Random;
}

export interface GeneratorOptions<T> {
  readonly splits: number;
  readonly generate: (context: GeneratorContext) => T;
  readonly recordsPerSplit?: number | ((split: number) => number);
  readonly ratePerSecond?: number;
  readonly seed?: number;
  readonly name?: string;
}

const splitId = (k: number, width: number) => `split-${String(k).padStart(width, "0")}`;

export const generator = <T>(options: GeneratorOptions<T>): Source<T, number> => {
  const { splits, generate, recordsPerSplit, ratePerSecond } = options;
  const seed = options.seed ?? 0;
  const name = options.name ?? "generator";
  if (!Number.isInteger(splits) || splits < 1) {
    throw userError("BAD_SOURCE_OPTIONS", `generator '${name}': splits must be a positive integer, got ${splits}`);
  }
  if (ratePerSecond !== undefined && !(ratePerSecond > 0)) {
    throw userError("BAD_SOURCE_OPTIONS", `generator '${name}': ratePerSecond must be positive, got ${ratePerSecond}`);
  }
  const checkLimit = (n: number, what: string): number => {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw userError("BAD_SOURCE_OPTIONS", `generator '${name}': recordsPerSplit${what} must be a whole number >= 0, got ${n}`);
    }
    return n;
  };
  if (typeof recordsPerSplit === "number") checkLimit(recordsPerSplit, "");
  const width = String(splits - 1).length;
  const limitOf = (split: number): number =>
    recordsPerSplit === undefined
      ? Infinity
      : typeof recordsPerSplit === "number"
        ? recordsPerSplit
        : checkLimit(recordsPerSplit(split), ` for split ${split}`);

  return {
    name,
    bounded: recordsPerSplit !== undefined,
    splits: () => Array.from({ length: splits }, (_, k) => splitId(k, width)),
    openReader(id: string, position: number | undefined, context: SourceContext): SplitReader<T, number> {
      const split = Number(id.slice("split-".length));
      const limit = limitOf(split);
      const random = new SeededRandom();
      const pacer = createPacer(ratePerSecond === undefined ? undefined : ratePerSecond / splits, context.now);
      let next = position ?? 0;
      const startIndex = next;
      return {
        read(max: number): ReadResult<T> {
          if (next >= limit) return { kind: "end" };
          const count = pacer.allow(Math.min(max, limit - next), next - startIndex);
          if (count === 0) return { kind: "idle", retryAfterMs: pacer.retryAfterMs };
          const records = new Array<T>(count);
          let index = next;
          try {
            for (; index < next + count; index++) {
              records[index - next] = generate({ split, index, random: random.reseed(seed, split, index) });
            }
          } catch (e) {
            if (isWeirError(e)) throw e;
            throw userError("GENERATOR_FAILED", `generator '${name}' threw at ${id} index ${index}: ${describeError(e)}`, {
              cause: e,
            });
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
