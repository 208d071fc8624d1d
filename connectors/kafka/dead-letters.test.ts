import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { deadLetter } from "./dead-letters.ts";

const bytes = (l: ReturnType<typeof deadLetter>) =>
  (l.key?.length ?? 0) + (l.value?.length ?? 0) + Object.entries(l.headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

describe("deadLetter", () => {
  const origin = (key: number, value: number) => ({ topic: "in", partition: 2, offset: 7, key: Buffer.alloc(key, "k"), value: Buffer.alloc(value, "v"), headers: { h: "1" } });

  it("keeps a record that fits as it is, with the error and its origin", () => {
    const l = deadLetter(origin(3, 10), new Error("bad json"), 1_000);
    expect(l.value!.length).toBe(10);
    expect(l.headers).toEqual({ h: "1", "weir.error": "bad json", "weir.topic": "in", "weir.partition": "2", "weir.offset": "7" });
  });

  it("truncates a larger one to fit the budget, saying so and keeping the original size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 200, max: 2_000 }), (key, value, max) => {
        const l = deadLetter(origin(key, value), new Error("x".repeat(2_000)), max);
        expect(bytes(l)).toBeLessThanOrEqual(Math.max(max, bytes({ key: null, value: null, headers: l.headers })));
        if (bytes(deadLetter(origin(key, value), new Error("x".repeat(2_000)), Infinity)) > max) {
          expect(l.headers["weir.truncated"]).toBe("true");
          expect(l.headers["weir.original-size"]).toBe(String(value));
        } else {
          expect(l.headers["weir.truncated"]).toBeUndefined();
        }
      }),
    );
  });
});
