import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { durationMillis, formatDuration, parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it.each([
    ["200ms", 200],
    ["1s", 1_000],
    ["1.5m", 90_000],
    ["1h", 3_600_000],
    ["250", 250],
    ["0", 0],
    ["0.25s", 250],
    ["10m", 600_000],
    [" 2s ", 2_000],
    ["2 s", 2_000],
  ])("parses %j as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it("rounds to whole milliseconds", () => {
    expect(parseDuration("1.4ms")).toBe(1);
    expect(parseDuration("1.6")).toBe(2);
    expect(parseDuration("0.0015s")).toBe(2);
  });

  it.each(["", " ", "abc", "ms", "-1s", "1d", "1S", "1.s", ".5s", "1e3", "1.5.2s", "1 2s", "NaN", "Infinity", "1sms", "+1s"])(
    "rejects %j with undefined",
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe("formatDuration", () => {
  it.each([
    [0, "0ms"],
    [200, "200ms"],
    [999, "999ms"],
    [12.4, "12ms"],
    [1_000, "1.00s"],
    [1_500, "1.50s"],
    [9_990, "9.99s"],
    [10_000, "10.0s"],
    [45_250, "45.3s"],
    [60_000, "1.0m"],
    [90_000, "1.5m"],
    [3_600_000, "60.0m"],
  ])("formats %d ms as %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("parses back to the same duration within the precision shown", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 3_600_000 }), (ms) => {
        const back = parseDuration(formatDuration(ms));
        expect(back).toBeDefined();
        const tolerance = ms < 1_000 ? 0 : ms < 10_000 ? 5 : ms < 60_000 ? 50 : 3_000;
        expect(Math.abs(back! - ms)).toBeLessThanOrEqual(tolerance);
      }),
    );
  });
});

describe("durationMillis", () => {
  it("takes whole milliseconds or duration strings", () => {
    expect(durationMillis(4000)).toBe(4000);
    expect(durationMillis("4s")).toBe(4000);
    expect(durationMillis("1.5m")).toBe(90_000);
    expect(durationMillis(1.5)).toBeUndefined();
    expect(durationMillis("soon")).toBeUndefined();
    expect(durationMillis(undefined)).toBeUndefined();
  });

  it("accepts a leading minus on strings only when signed", () => {
    expect(durationMillis("-5s")).toBeUndefined();
    expect(durationMillis("-5s", true)).toBe(-5000);
    expect(durationMillis(-5000)).toBe(-5000);
    expect(Object.is(durationMillis("-0s", true), -0)).toBe(false);
  });
});
