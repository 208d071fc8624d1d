import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { crashSchedule, describeKill, parseParallelismRange } from "./schedule.ts";

describe("crashSchedule", () => {
  it("the same seed gives the same schedule (what --seed replays); kills then one run to the end, parallelism in range", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }), (seed, kills, min, extra) => {
        const options = { seed, kills, parallelism: { min, max: min + extra } };
        const steps = crashSchedule(options);
        expect(crashSchedule(options)).toEqual(steps);
        expect(steps).toHaveLength(kills + 1);
        expect(steps.at(-1)!.kill).toBeUndefined();
        for (const s of steps) expect(s.parallelism >= min && s.parallelism <= min + extra).toBe(true);
        for (const s of steps.slice(0, -1)) {
          const k = s.kill!;
          expect(k.at >= 0.15 && k.at < 0.95).toBe(true);
          if (k.kind === "failpoint") expect(k.hit >= 1 && k.hit <= 3).toBe(true);
        }
        // The first run restores nothing: its 'restore' failpoint would never fire.
        expect(steps[0]!.kill?.kind === "failpoint" && steps[0]!.kill.name === "restore").toBe(false);
      }),
    );
  });

  it("seed 24 (used by test/verify.test.ts) starts with a kill at the first asynchronous snapshot", () => {
    const [first] = crashSchedule({ seed: 24, kills: 2, parallelism: { min: 1, max: 2 } });
    expect(first).toMatchObject({ parallelism: 1, kill: { kind: "failpoint", name: "async-snapshot", hit: 1 } });
  });

  it("different seeds draw different schedules", () => {
    const schedules = new Set([1, 2, 3, 4, 5].map((seed) => JSON.stringify(crashSchedule({ seed, kills: 3, parallelism: { min: 1, max: 4 } }))));
    expect(schedules.size).toBe(5);
  });

  it("describes kills in milliseconds of processing", () => {
    expect(describeKill({ kind: "timed", at: 0.5 }, 2000)).toBe("SIGKILL 1000 ms into processing");
    expect(describeKill({ kind: "failpoint", name: "after-ack", hit: 2, at: 0.25 }, 2000)).toBe("SIGKILL at failpoint 'after-ack' (hit 2) or 500 ms into processing");
  });
});

describe("parseParallelismRange", () => {
  it("reads min..max or one number, refuses the rest", () => {
    expect(parseParallelismRange("1..4")).toEqual({ min: 1, max: 4 });
    expect(parseParallelismRange("2")).toEqual({ min: 2, max: 2 });
    for (const bad of ["0..2", "3..1", "a..b", "1-4", "", "1..200"]) expect(parseParallelismRange(bad)).toBeUndefined();
  });
});
