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

describe("nexmark source", () => {
  it("bounded: splits are contiguous slices of the event ids, in order, covering [0, events)", async () => {
    const source = nexmark({ events: 1003, splits: 4, seed: 5 });
    expect(source.bounded).toBe(true);
    const splits = await source.splits(context);
    expect(splits).toEqual(["split-0", "split-1", "split-2", "split-3"]);
    const all: Event[] = [];
    const sizes: number[] = [];
    for (const s of splits) {
      const { out, position } = await drain(source, s);
      sizes.push(out.length);
      expect(position).toBe(out.length);
      for (let i = 1; i < out.length; i++) expect(eventTime(out[i] as Event)).toBeGreaterThanOrEqual(eventTime(out[i - 1] as Event));
      all.push(...out);
    }
    expect(sizes).toEqual([250, 251, 251, 251]); // floor(k * 1003 / 4) boundaries 0, 250, 501, 752, 1003
    const config = nexmarkConfig({ seed: 5 });
    expect(all).toEqual(Array.from({ length: 1003 }, (_, e) => generateEvent(e, config)));
  });

  it("defaults to 4 splits and seed 0, and honours config.firstEventId", async () => {
    const source = nexmark({ events: 8, config: { firstEventId: 100 } });
    expect((await source.splits(context)).length).toBe(4);
    const { out } = await drain(source, "split-1");
    const config = nexmarkConfig({ firstEventId: 100 });
    expect(out).toEqual([generateEvent(102, config), generateEvent(103, config)]);
    expect(eventTime(out[0] as Event)).toBe(config.baseTime); // n = 2 → 0.2 ms → floor 0
  });

  it("unbounded: split k generates counts k, k + splits, ... in time order and never ends", async () => {
    const source = nexmark({ splits: 3, seed: 1 });
    expect(source.bounded).toBe(false);
    const { out } = await drain(source, "split-2", undefined, 50, 200);
    const config = nexmarkConfig({ seed: 1 });
    expect(out).toEqual(Array.from({ length: 200 }, (_, i) => generateEvent(2 + 3 * i, config)));
    const reader = await source.openReader("split-2", 1e9, context);
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

  it("paces emission with the injected clock", async () => {
    let now = 0;
    const clock: SourceContext = { now: () => now, jobName: "t", runId: "r" };
    const source = nexmark({ events: 1000, splits: 2, ratePerSecond: 200 });
    const reader = await source.openReader("split-0", undefined, clock);
    expect(await reader.read(100)).toEqual({ kind: "idle", retryAfterMs: 10 });
    now = 100; // 100 events/s per split → 10 allowed
    expect(records(await reader.read(100)).length).toBe(10);
    expect((await reader.read(100)).kind).toBe("idle");
    now = 1000;
    expect(records(await reader.read(1000)).length).toBe(90);
    expect(reader.position()).toBe(100);
  });

  it("rejects bad options, unknown splits and out-of-range positions as user errors", async () => {
    expect(() => nexmark({ splits: 0 })).toThrow(/splits must be a positive integer/);
    expect(() => nexmark({ events: -1 })).toThrow(/events must be/);
    expect(() => nexmark({ ratePerSecond: 0 })).toThrow(/ratePerSecond/);
    expect(() => nexmark({ config: { firstEventRate: 0 } })).toThrow(/firstEventRate/);
    expect(() => nexmark({ config: { hotBiddersRatio: 0 } })).toThrow(/hotBiddersRatio/);
    const source = nexmark({ events: 10, splits: 2 });
    expect(() => source.openReader("split-7", undefined, context)).toThrow(/unknown split 'split-7'/);
    expect(() => source.openReader("split-0", 6, context)).toThrow(/out of range/);
    const atEnd = await source.openReader("split-0", 5, context);
    expect(await atEnd.read(10)).toEqual({ kind: "end" });
  });
});
