import { describe, expect, it } from "vitest";
import { sleep } from "./clock.ts";
import { ManualClock } from "./manual-clock.ts";

describe("ManualClock", () => {
  it("runs timeouts and intervals when time is advanced past them, in due order, each at its own time", () => {
    const clock = new ManualClock(100);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`t30@${clock.now()}`), 30);
    const every = clock.setInterval(() => seen.push(`i20@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push(`t10@${clock.now()}`), 10);
    clock.advance(9);
    expect(seen).toEqual([]);
    clock.advance(41);
    expect(seen).toEqual(["t10@110", "i20@120", "t30@130", "i20@140"]);
    expect(clock.now()).toBe(150);
    clock.clearInterval(every);
    clock.advance(100);
    expect(seen).toHaveLength(4);
    expect(clock.pendingTimers).toBe(0);
  });

  it("a cleared timeout never runs; a timer set by a timer runs in the same advance if due", () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    const t = clock.setTimeout(() => seen.push(1), 5);
    clock.clearTimeout(t);
    clock.setTimeout(() => clock.setTimeout(() => seen.push(clock.now()), 5), 5);
    clock.advance(10);
    expect(seen).toEqual([10]);
  });

  it("sleep resolves only once the clock has advanced", async () => {
    const clock = new ManualClock();
    let woke = false;
    const done = sleep(clock, 50).then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(50);
    await done;
    expect(woke).toBe(true);
  });
});
