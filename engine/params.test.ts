import { describe, expect, it } from "vitest";
import { paramsFrom, parseParamArgs } from "./params.ts";

describe("job parameters", () => {
  it("parses key=value pairs (values may contain '=') and reads them with defaults", () => {
    const p = paramsFrom(parseParamArgs(["events=1_000", "ratio=0.5", "flag=yes", "expr=a=b", "out=/tmp/x"]));
    expect(p.integer("events", 7)).toBe(1000);
    expect(p.integer("missing", 7)).toBe(7);
    expect(p.number("ratio", 1)).toBe(0.5);
    expect(p.boolean("flag", false)).toBe(true);
    expect(p.get("expr")).toBe("a=b");
    expect(p.get("nope")).toBeUndefined();
    expect(p.get("nope", "d")).toBe("d");
    expect(p.has("out")).toBe(true);
  });

  it("names the parameter and the expected form when a value is malformed", () => {
    const p = paramsFrom({ events: "many", ratio: "", flag: "maybe" });
    expect(() => p.integer("events", 1)).toThrow(/parameter 'events' is 'many', expected an integer/);
    expect(() => p.number("ratio", 1)).toThrow(/parameter 'ratio'/);
    expect(() => p.boolean("flag", true)).toThrow(/expected true or false/);
    expect(() => parseParamArgs(["novalue"])).toThrow(/not of the form key=value/);
  });
});
