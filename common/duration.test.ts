import { describe, expect, it } from "vitest";
import { durationMillis } from "./duration.ts";

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
