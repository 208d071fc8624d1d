import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventTimestamp, nexmarkConfig } from "./generator.ts";
import { dueCounts, firstCountAtOrAfter, scheduledAt } from "./schedule.ts";

describe("schedule", () => {
  it("count n is due at startAt + n * 1000 / rate", () => {
    const s = { startAt: 1_000_000, rate: 50_000 };
    expect(scheduledAt(0, s)).toBe(1_000_000);
    expect(scheduledAt(50_000, s)).toBe(1_001_000);
    expect(dueCounts(999_999.9, s)).toBe(0);
    expect(dueCounts(1_000_000, s)).toBe(1);
    expect(dueCounts(1_000_001, s)).toBe(51); // counts 0..50
  });

  it("dueCounts agrees with scheduledAt exactly, whatever the rate", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2e12 }), fc.double({ min: 0.5, max: 5e6, noNaN: true }), fc.double({ min: -10, max: 1e5, noNaN: true }), (startAt, rate, dt) => {
        const s = { startAt, rate };
        const now = startAt + dt;
        const n = dueCounts(now, s);
        if (n > 0) expect(scheduledAt(n - 1, s)).toBeLessThanOrEqual(now);
        expect(scheduledAt(n, s)).toBeGreaterThan(now);
      }),
    );
  });

  it("n(T) is the first count whose event time is >= T", () => {
    const config = nexmarkConfig({});
    const base = config.baseTime;
    expect(firstCountAtOrAfter(base - 5, config)).toBe(0);
    expect(firstCountAtOrAfter(base, config)).toBe(0);
    expect(firstCountAtOrAfter(base + 1, config)).toBe(10); // 10 events per ms
    expect(firstCountAtOrAfter(base + 10_000, config)).toBe(100_000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.oneof(fc.constant(10_000), fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0.3, max: 1e5, noNaN: true })), (dt, rate) => {
        const c = nexmarkConfig({ firstEventRate: rate });
        const t = c.baseTime + dt;
        const n = firstCountAtOrAfter(t, c);
        expect(eventTimestamp(n, c)).toBeGreaterThanOrEqual(t);
        if (n > 0) expect(eventTimestamp(n - 1, c)).toBeLessThan(t);
      }),
    );
  });
});
