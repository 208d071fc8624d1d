import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ReadResult, SourceContext } from "../source.ts";
import { generateEvent, nexmarkConfig } from "./generator.ts";
import { eventTime, type Event } from "./model.ts";
import { nexmark } from "./source.ts";

const context: SourceContext = { now: () => 1_700_000_000_000, jobName: "t", runId: "r" };

const records = (r: ReadResult<Event>): Event[] => {
  if (r.kind !== "records") throw new Error(`expected records, got ${r.kind}`);
  return r.records;
};

/** Reads a split to its end (or `limit` events) in batches of `batch`. */
const drain = async (source: ReturnType<typeof nexmark>, split: string, position?: number, batch = 97, limit = Infinity) => {
  const reader = await source.openReader(split, position, context);
  const out: Event[] = [];
  while (out.length < limit) {
    const r = await reader.read(Math.min(batch, limit - out.length));
    if (r.kind === "end") break;
    out.push(...records(r));
  }
  return { out, position: reader.position() };
};

/** A reader on a manual clock. */
const manual = (start: number) => {
  const clock = { t: start };
  const context: SourceContext = { now: () => clock.t, jobName: "t", runId: "r" };
  return { clock, context };
};

describe("nexmark source", () => {
  it("bounded: split k of P emits counts k, k + P, ... below N, in time order, covering [0, events) once", async () => {
    const source = nexmark({ events: 1003, splits: 4, seed: 5 });
    expect(source.bounded).toBe(true);
    const splits = await source.splits(context);
    expect(splits).toEqual(["p4-0", "p4-1", "p4-2", "p4-3"]);
    const config = nexmarkConfig({ seed: 5 });
    const sizes: number[] = [];
    const byCount = new Map<number, Event>();
    for (const [k, s] of splits.entries()) {
      const { out, position } = await drain(source, s);
      sizes.push(out.length);
      expect(position).toBe(out.length);
      expect(out).toEqual(Array.from({ length: out.length }, (_, i) => generateEvent(k + 4 * i, config)));
      for (let i = 1; i < out.length; i++) expect(eventTime(out[i] as Event)).toBeGreaterThanOrEqual(eventTime(out[i - 1] as Event));
      out.forEach((e, i) => byCount.set(k + 4 * i, e));
    }
    expect(sizes).toEqual([251, 251, 251, 250]); // ceil((1003 - k) / 4)
    expect([...byCount.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 1003 }, (_, n) => n));
  });

  it("every split spans the whole event-time range (the last events of all splits are within P counts)", async () => {
    const source = nexmark({ events: 10_000, splits: 3, seed: 1 });
    const lastTimes: number[] = [];
    for (const s of await source.splits(context)) {
      const { out } = await drain(source, s, undefined, 1000);
      lastTimes.push(eventTime(out[out.length - 1] as Event));
    }
    expect(Math.max(...lastTimes) - Math.min(...lastTimes)).toBeLessThanOrEqual(1);
  });

  it("more splits than events: the surplus splits are empty and end at once", async () => {
    const source = nexmark({ events: 2, splits: 4 });
    const { out } = await drain(source, "p4-3");
    expect(out).toEqual([]);
    expect((await drain(source, "p4-1")).out).toEqual([generateEvent(1, nexmarkConfig({}))]);
  });

  it("defaults to 4 splits and seed 0, and honours config.firstEventId", async () => {
    const source = nexmark({ events: 8, config: { firstEventId: 100 } });
    expect((await source.splits(context)).length).toBe(4);
    const { out } = await drain(source, "p4-1");
    const config = nexmarkConfig({ firstEventId: 100 });
    expect(out).toEqual([generateEvent(101, config), generateEvent(105, config)]);
    expect(eventTime(out[0] as Event)).toBe(config.baseTime); // n = 1 → 0.1 ms → floor 0
  });

  it("unbounded: split k generates counts k, k + splits, ... in time order and never ends", async () => {
    const source = nexmark({ splits: 3, seed: 1 });
    expect(source.bounded).toBe(false);
    const { out } = await drain(source, "p3-2", undefined, 50, 200);
    const config = nexmarkConfig({ seed: 1 });
    expect(out).toEqual(Array.from({ length: 200 }, (_, i) => generateEvent(2 + 3 * i, config)));
    const reader = await source.openReader("p3-2", 1e9, context);
    expect(records(await reader.read(2))).toEqual([generateEvent(2 + 3e9, config), generateEvent(2 + 3 * (1e9 + 1), config)]);
  });

  it("a split reopened at any position continues identically (bounded and unbounded)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        fc.nat({ max: 400 }),
        fc.integer({ min: 1, max: 64 }),
        async (events, splits, k, cut, batch) => {
          const source = nexmark({ events, splits, seed: 42 });
          const split = (await source.splits(context))[k % splits] as string;
          const straight = await drain(source, split, undefined, batch, 500);
          const stop = Math.min(cut, straight.out.length);
          const first = await drain(source, split, undefined, batch, stop);
          expect(first.position).toBe(stop);
          const rest = await drain(nexmark({ events, splits, seed: 42 }), split, first.position, batch + 3, 500 - stop);
          expect([...first.out, ...rest.out]).toEqual(straight.out);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("without startAt, the rate schedule is anchored at the reader's opening (its next count is due at once)", async () => {
    const { clock, context: ctx } = manual(0);
    const source = nexmark({ events: 1000, splits: 2, ratePerSecond: 200 }); // count n due at n * 5 ms
    const reader = await source.openReader("p2-0", undefined, ctx);
    expect(records(await reader.read(100)).length).toBe(1); // count 0, due at 0
    expect(await reader.read(100)).toEqual({ kind: "idle", retryAfterMs: 10 }); // count 2 due at 10 ms
    clock.t = 100; // counts 0, 2, ..., 20 due
    expect(records(await reader.read(100)).length).toBe(10);
    expect((await reader.read(100)).kind).toBe("idle");
    clock.t = 1000; // counts up to 200: indexes 0..100
    expect(records(await reader.read(1000)).length).toBe(90);
    expect(reader.position()).toBe(101);
    // Reopened later at its position: anchored so that its next count is due at once.
    clock.t = 50_000;
    const again = await source.openReader("p2-0", 101, ctx);
    expect(records(await again.read(100)).length).toBe(1);
    expect((await again.read(100)).kind).toBe("idle");
  });

  it("startAt + rate: count n is emitted once now >= startAt + n * 1000 / rate, never skipped; a late split catches up", async () => {
    const startAt = 1_000_000;
    const { clock, context: ctx } = manual(startAt - 5000);
    const source = nexmark({ splits: 2, ratePerSecond: 1000, startAt }); // count n due at startAt + n ms
    const r1 = await source.openReader("p2-1", undefined, ctx);
    expect(await r1.read(10)).toEqual({ kind: "idle", retryAfterMs: 50 }); // waits for startAt, in steps of at most 50 ms
    clock.t = startAt + 0.5;
    expect(await r1.read(10)).toEqual({ kind: "idle", retryAfterMs: 1 }); // count 1 due at startAt + 1
    clock.t = startAt + 1;
    expect(records(await r1.read(10))).toEqual([generateEvent(1, nexmarkConfig({}))]);
    clock.t = startAt + 7.9; // counts 3, 5, 7 due
    expect(r1.position()).toBe(1);
    expect(records(await r1.read(10)).length).toBe(3);
    // A reader that opens 2 s late emits everything due at once (in batches of `max`), then paces.
    clock.t = startAt + 2000;
    const r0 = await source.openReader("p2-0", undefined, ctx);
    let emitted = 0;
    for (let r = await r0.read(300); r.kind === "records"; r = await r0.read(300)) emitted += r.records.length;
    expect(emitted).toBe(1001); // counts 0, 2, ..., 2000
    expect(r0.position()).toBe(1001);
  });

  it("the schedule never skips: a split emits consecutive counts, all that are due, whatever the reads' timing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 50 }), async (steps, max) => {
        const startAt = 10_000;
        const { clock, context: ctx } = manual(startAt);
        let next = -1;
        const source = nexmark({ splits: 3, ratePerSecond: 3000, startAt, observer: { opened: (_k, n) => (next = n), emitted: (_k, n) => (next = n) } });
        const reader = await source.openReader("p3-2", undefined, ctx); // counts 2, 5, 8, ...; count n due at startAt + n / 3 ms
        for (const step of steps) {
          clock.t += step;
          const before = reader.position();
          const r = await reader.read(max);
          const dueIndexes = clock.t - startAt; // counts 2 + 3i <= 3 * elapsed
          expect(reader.position() - before).toBe(r.kind === "records" ? r.records.length : 0);
          expect(reader.position()).toBeLessThanOrEqual(dueIndexes);
          if (r.kind === "idle") expect(reader.position()).toBe(dueIndexes);
          expect(next).toBe(2 + 3 * reader.position());
        }
      }),
      { numRuns: 80 },
    );
  });

  it("endAt: every split ends at its first read at or after endAt; the observer hears each split's next count", async () => {
    const { clock, context: ctx } = manual(500);
    const heard = new Map<number, number>();
    const observer = { opened: (k: number, next: number) => heard.set(k, next), emitted: (k: number, next: number) => heard.set(k, next) };
    const source = nexmark({ splits: 2, startAt: 1000, endAt: 2000, observer });
    expect(source.bounded).toBe(true);
    const r0 = await source.openReader("p2-0", undefined, ctx);
    const r1 = await source.openReader("p2-1", 3, ctx);
    expect(heard).toEqual(new Map([[0, 0], [1, 7]]));
    expect((await r0.read(10)).kind).toBe("idle"); // before startAt
    clock.t = 1000;
    expect(records(await r0.read(10)).length).toBe(10); // no rate: as fast as read
    expect(heard.get(0)).toBe(20);
    clock.t = 2000;
    expect(await r0.read(10)).toEqual({ kind: "end" });
    expect(await r1.read(10)).toEqual({ kind: "end" });
    expect(heard).toEqual(new Map([[0, 20], [1, 7]]));
  });

  it("events and endAt together: whichever comes first ends the split", async () => {
    const { clock, context: ctx } = manual(0);
    const source = nexmark({ events: 5, splits: 1, startAt: 0, endAt: 100 });
    const reader = await source.openReader("p1-0", undefined, ctx);
    expect(records(await reader.read(10)).length).toBe(5);
    expect(await reader.read(10)).toEqual({ kind: "end" });
    clock.t = 100;
    expect(await (await source.openReader("p1-0", 0, ctx)).read(10)).toEqual({ kind: "end" });
  });

  it("rejects bad options, unknown splits (also the old layout's ids) and out-of-range positions as user errors", async () => {
    expect(() => nexmark({ splits: 0 })).toThrow(/splits must be a positive integer/);
    expect(() => nexmark({ events: -1 })).toThrow(/events must be/);
    expect(() => nexmark({ ratePerSecond: 0 })).toThrow(/ratePerSecond/);
    expect(() => nexmark({ startAt: Number.NaN })).toThrow(/startAt/);
    expect(() => nexmark({ endAt: Infinity })).toThrow(/endAt/);
    expect(() => nexmark({ config: { firstEventRate: 0 } })).toThrow(/firstEventRate/);
    expect(() => nexmark({ config: { hotBiddersRatio: 0 } })).toThrow(/hotBiddersRatio/);
    const source = nexmark({ events: 10, splits: 2 });
    expect(() => source.openReader("p2-7", undefined, context)).toThrow(/unknown split 'p2-7'/);
    expect(() => source.openReader("split-0", undefined, context)).toThrow(/unknown split 'split-0'.*another split layout/);
    expect(() => source.openReader("p3-0", undefined, context)).toThrow(/unknown split 'p3-0'/);
    expect(() => source.openReader("p2-0", 6, context)).toThrow(/out of range/);
    const atEnd = await source.openReader("p2-0", 5, context);
    expect(await atEnd.read(10)).toEqual({ kind: "end" });
  });
});
