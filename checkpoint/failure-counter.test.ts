import { describe, expect, it } from "vitest";
import { countFailure, countSuccess, noFailures } from "./failure-counter.ts";

describe("failure counter", () => {
  it("starts at zero, not exceeded", () => {
    expect(noFailures).toEqual({ consecutive: 0, exceeded: false });
  });

  it("counts consecutive failures and is exceeded only when more than tolerable", () => {
    let c = noFailures;
    c = countFailure(c, 2);
    expect(c).toEqual({ consecutive: 1, exceeded: false });
    c = countFailure(c, 2);
    expect(c).toEqual({ consecutive: 2, exceeded: false });
    c = countFailure(c, 2);
    expect(c).toEqual({ consecutive: 3, exceeded: true });
    c = countFailure(c, 2);
    expect(c).toEqual({ consecutive: 4, exceeded: true });
  });

  it("with 0 tolerable, the first failure exceeds", () => {
    expect(countFailure(noFailures, 0)).toEqual({ consecutive: 1, exceeded: true });
  });

  it("with Infinity tolerable, never exceeds", () => {
    let c = noFailures;
    for (let i = 0; i < 1_000; i++) c = countFailure(c, Infinity);
    expect(c).toEqual({ consecutive: 1_000, exceeded: false });
  });

  it("does not mutate the counter it is given", () => {
    const before = countFailure(noFailures, 5);
    countFailure(before, 5);
    expect(before).toEqual({ consecutive: 1, exceeded: false });
    expect(noFailures).toEqual({ consecutive: 0, exceeded: false });
  });

  it("a success resets the count", () => {
    const failed = countFailure(countFailure(noFailures, 1), 1);
    expect(failed.exceeded).toBe(true);
    const reset = countSuccess();
    expect(reset).toEqual({ consecutive: 0, exceeded: false });
    expect(countFailure(reset, 1)).toEqual({ consecutive: 1, exceeded: false });
  });
});
