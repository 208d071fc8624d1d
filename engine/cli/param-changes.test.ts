import { describe, expect, it } from "vitest";
import { paramChanges } from "./param-changes.ts";

describe("paramChanges", () => {
  it("names changed, added and removed parameters by key", () => {
    expect(paramChanges({ events: "2000000", rate: "200000", seed: "1" }, { events: "1000", out: "out/x", seed: "1" })).toEqual([
      "events=1000 (was 2000000)",
      "out=out/x (was not set)",
      "rate not set (was 200000)",
    ]);
  });

  it("is empty for equal parameters and for a checkpoint that recorded none", () => {
    expect(paramChanges({ a: "1" }, { a: "1" })).toEqual([]);
    expect(paramChanges(undefined, { a: "1" })).toEqual([]);
  });
});
