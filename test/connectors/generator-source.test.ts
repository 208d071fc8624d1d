/**
 * Specification of the deterministic generator source (connectors/generator-source.ts) and its
 * PRNG (connectors/random.ts): same seed ⇒ same records, reopening at a position continues
 * exactly, bounded splits end, pacing follows the injected clock.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { WeirError } from "../../common/errors.ts";
import { generator, type GeneratorContext, type GeneratorOptions } from "../../connectors/generator-source.ts";
import { SeededRandom } from "../../connectors/random.ts";
import type { ReadResult, Source, SourceContext, SplitReader } from "../../connectors/source.ts";

const fixedClock: SourceContext = { now: () => 1_700_000_000_000, jobName: "t", runId: "r" };

interface Sample {
  readonly split: number;
  readonly index: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

/** A record that depends on everything the generator passes in. */
const sample = ({ split, index, random }: GeneratorContext): Sample => ({
  split,
  index,
  a: random.next(),
  b: random.int(1_000_000),
  c: random.next(),
});

const read = async <T>(reader: SplitReader<T, number>, max: number): Promise<ReadResult<T>> => await reader.read(max);

/** Opens a split (the contract allows a promise or a reader). */
const openAt = async <T>(source: Source<T, number>, id: string, position: number | undefined, context: SourceContext) =>
  await source.openReader(id, position, context);

/** Reads until `end` (the source must be bounded and unpaced), cycling through `sizes`. */
const drain = async <T>(reader: SplitReader<T, number>, sizes: readonly number[] = [1000]): Promise<T[]> => {
  const out: T[] = [];
  for (let call = 0; ; call++) {
    const result = await read(reader, sizes[call % sizes.length] ?? 1);
    if (result.kind === "end") return out;
    if (result.kind === "idle") throw new Error("an unpaced generator must never be idle");
    out.push(...result.records);
  }
};

/** The records of every split, read straight through. */
const readAll = async <T>(options: GeneratorOptions<T>): Promise<T[][]> => {
  const source = generator(options);
  const result: T[][] = [];
  for (const split of await source.splits(fixedClock)) {
    result.push(await drain(await openAt(source, split, undefined, fixedClock)));
  }
  return result;
};

/** Calls `f` and returns what it threw or rejected with (failing if it did neither). */
const thrown = async (f: () => unknown): Promise<unknown> => {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a failure");
};

describe("generator: determinism", () => {
  test("the same seed gives the same records; another seed gives others", async () => {
    const options = { splits: 3, recordsPerSplit: 50, seed: 7, generate: sample };
    const first = await readAll(options);
    const second = await readAll(options);
    expect(second).toEqual(first);
    expect(first.map((records) => records.length)).toEqual([50, 50, 50]);
    const other = await readAll({ ...options, seed: 8 });
    expect(other).not.toEqual(first);
  });

  test("the splits are numbered 0..n-1, each once, and split ids are stable", async () => {
    const source = generator({ splits: 12, recordsPerSplit: 1, generate: sample });
    const ids = await source.splits(fixedClock);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
    expect(await generator({ splits: 12, recordsPerSplit: 1, generate: sample }).splits(fixedClock)).toEqual(ids);
    const splitNumbers: number[] = [];
    for (const id of ids) {
      const records = await drain(await openAt(source, id, undefined, fixedClock));
      splitNumbers.push(...records.map((r) => r.split));
    }
    expect(splitNumbers.sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, k) => k));
  });

  test("generate sees indexes 0, 1, 2, ... in order within a split", async () => {
    const [records] = await readAll({ splits: 1, recordsPerSplit: 25, generate: ({ index }) => index });
    expect(records).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  test("splits differ from each other even with the same indexes", async () => {
    const [s0, s1] = await readAll({ splits: 2, recordsPerSplit: 20, seed: 1, generate: ({ random }) => random.next() });
    expect(s0).not.toEqual(s1);
  });

  test("property: a split reopened at position p continues with exactly the records a straight run has from p", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 60 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 20 }),
        async (seed, splits, total, sizesBefore, sizesAfter, readsBeforeStop) => {
          const options = { splits, seed, recordsPerSplit: total, generate: sample };
          const straight = await readAll(options);
          for (const [k, id] of (await generator(options).splits(fixedClock)).entries()) {
            // A first run reads a few batches, then "crashes" and remembers its position.
            const first = await openAt(generator(options), id, undefined, fixedClock);
            const before: Sample[] = [];
            for (let call = 0; call < readsBeforeStop; call++) {
              const result = await read(first, sizesBefore[call % sizesBefore.length]!);
              if (result.kind !== "records") break;
              before.push(...result.records);
              expect(first.position()).toBe(before.length);
            }
            const p = first.position();
            await first.close();
            // A new source instance (as after a restart) reopens there.
            const after = await drain(await openAt(generator(options), id, p, fixedClock), sizesAfter);
            expect(before).toEqual(straight[k]!.slice(0, p));
            expect(after).toEqual(straight[k]!.slice(p));
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  test("reopening at any position, including far beyond 2^32, gives what the index alone determines", async () => {
    const options = { splits: 1, generate: sample, seed: 3 };
    const source = generator(options);
    for (const p of [0, 5, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 17]) {
      const a = await read(await openAt(source, "split-0", p, fixedClock), 3);
      const b = await read(await openAt(generator(options), "split-0", p, fixedClock), 3);
      expect(a.kind).toBe("records");
      expect(b).toEqual(a);
      if (a.kind === "records") expect(a.records.map((r) => r.index)).toEqual([p, p + 1, p + 2]);
    }
    const low = await read(await openAt(source, "split-0", 5, fixedClock), 1);
    const high = await read(await openAt(source, "split-0", 5 + 2 ** 32, fixedClock), 1);
    expect(low.kind === "records" && high.kind === "records" && low.records[0]!.a !== high.records[0]!.a).toBe(true);
  });
});

describe("generator: boundedness", () => {
  test("with a number recordsPerSplit, every split returns that many records, then end", async () => {
    const source = generator({ splits: 2, recordsPerSplit: 5, generate: ({ index }) => index });
    expect(source.bounded).toBe(true);
    for (const id of await source.splits(fixedClock)) {
      const reader = await openAt(source, id, undefined, fixedClock);
      expect(await read(reader, 2)).toEqual({ kind: "records", records: [0, 1] });
      expect(await read(reader, 2)).toEqual({ kind: "records", records: [2, 3] });
      expect(await read(reader, 2)).toEqual({ kind: "records", records: [4] });
      expect(reader.position()).toBe(5);
      expect(await read(reader, 2)).toEqual({ kind: "end" });
      expect(await read(reader, 2)).toEqual({ kind: "end" });
    }
  });

  test("with a function recordsPerSplit, split k returns recordsPerSplit(k) records", async () => {
    const counts = (await readAll({ splits: 4, recordsPerSplit: (k) => k * 3, generate: ({ index }) => index })).map(
      (r) => r.length,
    );
    expect(counts).toEqual([0, 3, 6, 9]);
  });

  test("recordsPerSplit 0 ends at once", async () => {
    const reader = await openAt(generator({ splits: 1, recordsPerSplit: 0, generate: sample }), "split-0", undefined, fixedClock);
    expect(await read(reader, 10)).toEqual({ kind: "end" });
  });

  test("reopening a bounded split at its end ends at once", async () => {
    const source = generator({ splits: 1, recordsPerSplit: 4, generate: sample });
    expect(await read(await openAt(source, "split-0", 4, fixedClock), 10)).toEqual({ kind: "end" });
  });

  test("without recordsPerSplit the source is unbounded and keeps producing", async () => {
    const source = generator({ splits: 1, generate: ({ index }) => index });
    expect(source.bounded).toBe(false);
    const reader = await openAt(source, "split-0", undefined, fixedClock);
    let seen = 0;
    for (let i = 0; i < 5; i++) {
      const result = await read(reader, 1000);
      expect(result.kind).toBe("records");
      if (result.kind === "records") {
        expect(result.records).toHaveLength(1000);
        expect(result.records[0]).toBe(seen);
        seen += result.records.length;
      }
    }
    expect(reader.position()).toBe(5000);
  });

  test("the name defaults to generator and can be set", () => {
    expect(generator({ splits: 1, generate: sample }).name).toBe("generator");
    expect(generator({ splits: 1, generate: sample, name: "events" }).name).toBe("events");
  });
});

describe("generator: rate limit against the injected clock", () => {
  const pacedReader = async (rate: number, splits = 1, id = "split-0") => {
    let now = 1_000_000;
    const context: SourceContext = { now: () => now, jobName: "t", runId: "r" };
    const reader = await openAt(generator({ splits, ratePerSecond: rate, generate: ({ index }) => index }), id, undefined, context);
    return { reader, advance: (ms: number) => void (now += ms) };
  };

  test("returns idle (with a positive retry delay) when the rate allows nothing yet", async () => {
    const { reader } = await pacedReader(10);
    const result = await read(reader, 100);
    expect(result.kind).toBe("idle");
    if (result.kind === "idle") expect(result.retryAfterMs).toBeGreaterThan(0);
    expect(reader.position()).toBe(0);
  });

  test("emits what the rate allows for the elapsed time, and no more", async () => {
    const { reader, advance } = await pacedReader(10);
    advance(1000);
    const first = await read(reader, 100);
    expect(first).toEqual({ kind: "records", records: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    expect((await read(reader, 100)).kind).toBe("idle");
    advance(500);
    const second = await read(reader, 100);
    expect(second).toEqual({ kind: "records", records: [10, 11, 12, 13, 14] });
    expect((await read(reader, 100)).kind).toBe("idle");
  });

  test("the rate is for all splits together", async () => {
    const a = await pacedReader(10, 2, "split-0");
    const b = await pacedReader(10, 2, "split-1");
    a.advance(2000);
    b.advance(2000);
    let total = 0;
    for (const { reader } of [a, b]) {
      for (;;) {
        const result = await read(reader, 100);
        if (result.kind !== "records") break;
        total += result.records.length;
      }
    }
    expect(total).toBeLessThanOrEqual(20);
    expect(total).toBeGreaterThanOrEqual(18);
  });

  test("property: at any time, what all splits emitted never exceeds rate × elapsed, and idle means the allowance is used up", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ advanceMs: fc.integer({ min: 0, max: 700 }), split: fc.nat(), max: fc.integer({ min: 1, max: 500 }) }), {
          maxLength: 40,
        }),
        async (rate, splits, steps) => {
          let now = 0;
          const context: SourceContext = { now: () => now, jobName: "t", runId: "r" };
          const source = generator({ splits, ratePerSecond: rate, generate: ({ index }) => index });
          const ids = await source.splits(context);
          const readers = await Promise.all(ids.map((id) => openAt(source, id, undefined, context)));
          const emitted = ids.map(() => 0);
          for (const step of steps) {
            now += step.advanceMs;
            const k = step.split % splits;
            const result = await read(readers[k]!, step.max);
            expect(result.kind).not.toBe("end");
            if (result.kind === "records") {
              expect(result.records.length).toBeGreaterThan(0);
              expect(result.records.length).toBeLessThanOrEqual(step.max);
              // Records continue the split's sequence.
              expect(result.records[0]).toBe(emitted[k]);
              emitted[k]! += result.records.length;
            }
            const total = emitted.reduce((x, y) => x + y, 0);
            expect(total).toBeLessThanOrEqual(Math.floor((now * rate) / 1000) + 1e-9);
            if (result.kind === "idle") {
              expect(result.retryAfterMs).toBeGreaterThan(0);
              // Idle only when this split has used up its share (up to rounding of the share).
              expect(emitted[k]!).toBeGreaterThanOrEqual(Math.floor((now * rate) / 1000 / splits) - 1);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("generator: errors", () => {
  const expectBadOptions = async (options: GeneratorOptions<unknown>, mentions: string) => {
    const error = await thrown(async () => {
      const source = generator(options);
      for (const id of await source.splits(fixedClock)) await read(await openAt(source, id, undefined, fixedClock), 10);
    });
    expect(error).toBeInstanceOf(WeirError);
    expect((error as WeirError).code).toBe("BAD_SOURCE_OPTIONS");
    expect((error as WeirError).domain).toBe("user");
    expect((error as WeirError).message).toContain(mentions);
  };

  test.each([0, -1, 1.5, Number.NaN])("splits %s is BAD_SOURCE_OPTIONS naming the generator", async (splits) => {
    await expectBadOptions({ splits, generate: sample, name: "gen-under-test" }, "gen-under-test");
  });

  test.each([0, -10, Number.NaN])("ratePerSecond %s is BAD_SOURCE_OPTIONS", async (ratePerSecond) => {
    await expectBadOptions({ splits: 1, ratePerSecond, generate: sample }, "ratePerSecond");
  });

  test.each([-1, 2.5, Number.NaN])("recordsPerSplit %s is BAD_SOURCE_OPTIONS", async (recordsPerSplit) => {
    await expectBadOptions({ splits: 1, recordsPerSplit, generate: sample }, "recordsPerSplit");
  });

  test("a throwing generate is a user error GENERATOR_FAILED naming the split and the index", async () => {
    const cause = new Error("no record for you");
    const source = generator({
      splits: 3,
      recordsPerSplit: 10,
      name: "flaky",
      generate: ({ split, index }) => {
        if (split === 1 && index === 3) throw cause;
        return index;
      },
    });
    const [, id1] = await source.splits(fixedClock);
    const reader = await openAt(source, id1!, undefined, fixedClock);
    expect(await read(reader, 2)).toEqual({ kind: "records", records: [0, 1] });
    const error = await thrown(() => read(reader, 5));
    expect(error).toBeInstanceOf(WeirError);
    const weir = error as WeirError;
    expect(weir.code).toBe("GENERATOR_FAILED");
    expect(weir.domain).toBe("user");
    expect(weir.message).toContain(id1!);
    expect(weir.message).toContain("index 3");
    expect(weir.message).toContain("flaky");
    expect(weir.message).toContain("no record for you");
    expect(weir.cause).toBe(cause);
  });
});

describe("SeededRandom", () => {
  const draws = (seed: number, split: number, index: number, n: number) => {
    const r = new SeededRandom().reseed(seed, split, index);
    return Array.from({ length: n }, () => r.next());
  };

  test("property: next() stays in [0, 1) and int(n) is an integer in [0, n)", () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.nat(),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        (seed, split, index, n) => {
          const r = new SeededRandom().reseed(seed, split, index);
          for (let i = 0; i < 20; i++) {
            const x = r.next();
            expect(x).toBeGreaterThanOrEqual(0);
            expect(x).toBeLessThan(1);
            const k = r.int(n);
            expect(Number.isInteger(k)).toBe(true);
            expect(k).toBeGreaterThanOrEqual(0);
            expect(k).toBeLessThan(n);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("int(1) is always 0 and int(n) reaches every value of [0, n)", () => {
    const r = new SeededRandom().reseed(11, 0, 0);
    for (let i = 0; i < 100; i++) expect(r.int(1)).toBe(0);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(r.int(7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  test("the same (seed, split, index) gives the same sequence; reseeding restarts it", () => {
    expect(draws(5, 2, 9, 10)).toEqual(draws(5, 2, 9, 10));
    const r = new SeededRandom().reseed(5, 2, 9);
    r.next();
    r.next();
    r.reseed(5, 2, 9);
    expect(Array.from({ length: 10 }, () => r.next())).toEqual(draws(5, 2, 9, 10));
  });

  test("changing any of seed, split or index changes the sequence", () => {
    const base = draws(5, 2, 9, 4);
    expect(draws(6, 2, 9, 4)).not.toEqual(base);
    expect(draws(5, 3, 9, 4)).not.toEqual(base);
    expect(draws(5, 2, 10, 4)).not.toEqual(base);
  });

  test("draws are roughly uniform (mean near 1/2, every tenth of [0,1) hit about equally)", () => {
    const r = new SeededRandom().reseed(123, 4, 56);
    const n = 20_000;
    const buckets = new Array<number>(10).fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      sum += x;
      buckets[Math.floor(x * 10)]! += 1;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.02);
    for (const count of buckets) expect(Math.abs(count - n / 10)).toBeLessThan(n / 10 / 5);
  });
});
