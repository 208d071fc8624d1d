import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PHASES, breakdownOf, spreadOf, type TimelineMark } from "./recovery-breakdown.ts";

const restart = (t: { load: number; choose: number; claim: number; restores: [number, number][]; start: number; first: number }, id = 7): TimelineMark[] => [
  { phase: "job-loaded", at: t.load },
  { phase: "checkpoint-chosen", at: t.choose, detail: { checkpoint: id } },
  { phase: "run-folder-claimed", at: t.claim },
  { phase: "sinks-started", at: t.claim + 1 },
  ...t.restores.flatMap(([from, to], subtask): TimelineMark[] => [
    { phase: "state-restoring", at: from, detail: { operator: "op", subtask, sources: 1 } },
    { phase: "state-restored", at: to, detail: { operator: "op", subtask, sources: 1 } },
  ]),
  { phase: "started", at: t.start },
  { phase: "first-record", at: t.first },
];

describe("breakdownOf", () => {
  it("splits the time from spawn to the first record into its phases", () => {
    const marks = restart({ load: 1600, choose: 2700, claim: 2750, restores: [[2760, 2800], [2800, 2900]], start: 2950, first: 3100 });
    expect(breakdownOf(1000, { processStart: 1100, marks })).toEqual({
      startup: 600,
      checkpoint: 1100,
      claim: 50,
      restore: 140,
      wiring: 60,
      firstBatch: 150,
      total: 2100,
      restoredId: 7,
    });
  });

  it("reads the last attempt before the first record when the run restarted inside the process", () => {
    const failed = restart({ load: 1100, choose: 1200, claim: 1300, restores: [[1310, 1400]], start: 1500, first: 0 }, 5).filter((m) => m.phase !== "first-record");
    const retried = restart({ load: 2000, choose: 2100, claim: 2200, restores: [[2210, 2220]], start: 2300, first: 2400 }, 6);
    const b = breakdownOf(1000, { processStart: 1000, marks: [...failed, ...retried] });
    expect(b).toMatchObject({ checkpoint: 100, restore: 10, restoredId: 6, total: 1400 });
  });

  it("refuses a timeline without a first record, or with marks out of order", () => {
    const marks = restart({ load: 1, choose: 2, claim: 3, restores: [], start: 4, first: 5 });
    expect(() => breakdownOf(0, { processStart: 0, marks: marks.filter((m) => m.phase !== "first-record") })).toThrow(/first-record/);
    expect(() => breakdownOf(2, { processStart: 0, marks })).toThrow(/out of order/);
  });

  it("phases are non-negative and sum to the total", () => {
    const gap = fc.integer({ min: 0, max: 10_000 });
    fc.assert(
      fc.property(fc.array(gap, { minLength: 6, maxLength: 6 }), fc.array(fc.tuple(gap, gap), { maxLength: 4 }), (gaps, restoreGaps) => {
        let at = 1_000;
        const next = (d: number) => (at += d);
        const spawn = at;
        const load = next(gaps[0]!);
        const choose = next(gaps[1]!);
        const claim = next(gaps[2]!);
        const restores = restoreGaps.map(([idle, busy]): [number, number] => [next(idle), next(busy)]);
        const start = next(gaps[3]!);
        const first = next(gaps[4]!);
        const b = breakdownOf(spawn, { processStart: spawn, marks: restart({ load, choose, claim, restores, start, first }) });
        const sum = PHASES.reduce((s, p) => s + b[p], 0);
        expect(sum).toBe(b.total);
        for (const p of PHASES) expect(b[p]).toBeGreaterThanOrEqual(0);
        expect(b.restore).toBe(restoreGaps.reduce((s, [, busy]) => s + busy, 0));
      }),
    );
  });
});

describe("spreadOf", () => {
  it("median (lower middle of an even count), min and max", () => {
    expect(spreadOf([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
    expect(spreadOf([4, 1, 3, 2])).toEqual({ median: 2, min: 1, max: 4 });
    expect(() => spreadOf([])).toThrow();
  });
});
