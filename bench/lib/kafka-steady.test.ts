import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { countAt, startOf, steadyWindow, timeAt, type Sample } from "./kafka-steady.ts";

/** A counter idle until `startMs`, then `warmRate` for `warmMs`, then `rate` until `total`, sampled every `every` ms. */
const counter = (o: { startMs: number; warmRate: number; warmMs: number; rate: number; total: number; every: number; endMs: number }): Sample[] => {
  const at = (t: number) => {
    if (t <= o.startMs) return 0;
    const warm = Math.min(t - o.startMs, o.warmMs);
    const c = (warm * o.warmRate) / 1000 + (Math.max(0, t - o.startMs - o.warmMs) * o.rate) / 1000;
    return Math.min(o.total, c);
  };
  const out: Sample[] = [];
  for (let t = 0; t <= o.endMs; t += o.every) out.push({ t, count: at(t) });
  return out;
};

describe("countAt / timeAt", () => {
  const s: Sample[] = [
    { t: 0, count: 0 },
    { t: 100, count: 0 },
    { t: 200, count: 1000 },
    { t: 300, count: 1000 },
    { t: 400, count: 3000 },
  ];
  it("interpolate linearly between samples and clamp outside", () => {
    expect(countAt(s, -5)).toBe(0);
    expect(countAt(s, 150)).toBe(500);
    expect(countAt(s, 350)).toBe(2000);
    expect(countAt(s, 999)).toBe(3000);
    expect(timeAt(s, 500)).toBe(150);
    expect(timeAt(s, 1000)).toBe(200);
    expect(timeAt(s, 2000)).toBe(350);
    expect(timeAt(s, 3001)).toBeUndefined();
    expect(startOf(s)).toBe(100);
  });

  it("are inverse on a strictly growing counter", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 2, maxLength: 50 }), fc.double({ min: 0, max: 1, noNaN: true }), (steps, f) => {
        let count = 0;
        const samples = steps.map((d, i) => ({ t: i * 100, count: (count += d) }));
        const c = samples[0]!.count + f * (samples[samples.length - 1]!.count - samples[0]!.count);
        expect(countAt(samples, timeAt(samples, c)!)).toBeCloseTo(c, 6);
      }),
    );
  });
});

describe("steadyWindow", () => {
  it("takes the rate after the warm-up only, over the whole window", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1000, max: 100_000 }),
        fc.integer({ min: 1000, max: 100_000 }),
        (startMs, warmRate, rate) => {
          const samples = counter({ startMs, warmRate, warmMs: 2000, rate, total: Infinity, every: 100, endMs: startMs + 20_000 });
          const w = steadyWindow(samples, { warmupMs: 2500, windowMs: 10_000 });
          expect(w.kind).toBe("full");
          if (w.kind === "none") return;
          expect(w.rate).toBeCloseTo(rate, 6);
          expect(w.toMs - w.fromMs).toBe(10_000);
        },
      ),
    );
  });

  it("ends the window where the input runs out, and says so", () => {
    const samples = counter({ startMs: 500, warmRate: 1000, warmMs: 1000, rate: 10_000, total: 50_000, every: 100, endMs: 20_000 });
    const w = steadyWindow(samples, { warmupMs: 1000, windowMs: 10_000, endCount: 49_000 });
    expect(w.kind).toBe("short");
    if (w.kind === "none") return;
    expect(w.rate).toBeCloseTo(10_000, 6);
    expect(w.toMs).toBeCloseTo(500 + 1000 + 4800, 6); // 1,000 during the warm-up, then 48,000 at 10k/s
  });

  it("has no window when the counter never moves or the input ends within the warm-up", () => {
    expect(steadyWindow([{ t: 0, count: 0 }, { t: 100, count: 0 }], { warmupMs: 0, windowMs: 10 }).kind).toBe("none");
    const samples = counter({ startMs: 0, warmRate: 10_000, warmMs: 10_000, rate: 10_000, total: 5_000, every: 100, endMs: 5_000 });
    const w = steadyWindow(samples, { warmupMs: 3000, windowMs: 10_000, endCount: 4_900 });
    expect(w).toMatchObject({ kind: "none", reason: expect.stringMatching(/input ran out/) });
  });
});
