import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isWeirError } from "../../common/errors.ts";
import {
  assignWindows,
  cover,
  eventTimeSessionWindows,
  intersects,
  isMerging,
  maxTimestamp,
  mergeSessionWindow,
  processingTimeSessionWindows,
  slidingEventTimeWindows,
  slidingProcessingTimeWindows,
  tumblingEventTimeWindows,
  tumblingProcessingTimeWindows,
  windowKey,
  windowStart,
  type TimeWindow,
  type WindowAssigner,
} from "./windows.ts";

const w = (start: number, end: number): TimeWindow => ({ start, end });

/** The error `f` throws, so tests can look at its code and message. */
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
};

const expectUserError = (f: () => unknown, code: string, ...fragments: string[]): void => {
  const e = thrown(f);
  expect(isWeirError(e)).toBe(true);
  if (!isWeirError(e)) return;
  expect(e.domain).toBe("user");
  expect(e.code).toBe(code);
  for (const fragment of fragments) expect(e.message).toContain(fragment);
};

describe("TimeWindow", () => {
  it("maxTimestamp is the last millisecond inside [start, end)", () => {
    expect(maxTimestamp(w(0, 10))).toBe(9);
    expect(maxTimestamp(w(-10, 0))).toBe(-1);
  });

  it("intersects counts touching windows (Flink's rule)", () => {
    expect(intersects(w(0, 10), w(10, 20))).toBe(true);
    expect(intersects(w(10, 20), w(0, 10))).toBe(true);
    expect(intersects(w(0, 10), w(5, 6))).toBe(true);
    expect(intersects(w(0, 10), w(11, 20))).toBe(false);
    expect(intersects(w(11, 20), w(0, 10))).toBe(false);
  });

  it("cover is the smallest window holding both", () => {
    expect(cover(w(0, 10), w(20, 30))).toEqual(w(0, 30));
    expect(cover(w(5, 6), w(0, 10))).toEqual(w(0, 10));
  });
});

describe("windowStart (Flink's getWindowStartWithOffset)", () => {
  it.each([
    // [timestamp, offset, size, start]
    [0, 0, 10, 0],
    [9, 0, 10, 0],
    [10, 0, 10, 10],
    [12_345, 0, 10_000, 10_000],
    [-1, 0, 10, -10],
    [-10, 0, 10, -10],
    [-11, 0, 10, -20],
    [7, 3, 10, 3],
    [2, 3, 10, -7],
    [13, 3, 10, 13],
    [2, -3, 10, -3],
    [7, -3, 10, 7],
    [-5, -3, 10, -13],
  ])("windowStart(%d, offset %d, size %d) = %d", (t, offset, size, start) => {
    expect(windowStart(t, offset, size)).toBe(start);
  });

  it("returns the start s with s <= t < s + size and s ≡ offset (mod size)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: -999, max: 999 }),
        (t, size, rawOffset) => {
          const offset = rawOffset % size;
          const s = windowStart(t, offset, size);
          expect(s <= t && t < s + size).toBe(true);
          expect((((s - offset) % size) + size) % size).toBe(0);
        },
      ),
    );
  });
});

describe("tumbling windows", () => {
  it("assigns exactly one window [k*size, (k+1)*size)", () => {
    const a = tumblingEventTimeWindows(10);
    expect(assignWindows(a, 0)).toEqual([w(0, 10)]);
    expect(assignWindows(a, 9)).toEqual([w(0, 10)]);
    expect(assignWindows(a, 25)).toEqual([w(20, 30)]);
  });

  it("a timestamp equal to a window's end belongs to the next window", () => {
    const a = tumblingEventTimeWindows(10);
    expect(assignWindows(a, 10)).toEqual([w(10, 20)]);
    const [first] = assignWindows(a, 9);
    expect(first).toBeDefined();
    expect(maxTimestamp(first!)).toBe(9);
  });

  it("handles negative timestamps", () => {
    const a = tumblingEventTimeWindows(10);
    expect(assignWindows(a, -1)).toEqual([w(-10, 0)]);
    expect(assignWindows(a, -10)).toEqual([w(-10, 0)]);
    expect(assignWindows(a, -11)).toEqual([w(-20, -10)]);
  });

  it("shifts windows by the offset (positive and negative)", () => {
    expect(assignWindows(tumblingEventTimeWindows(10, { offset: 3 }), 2)).toEqual([w(-7, 3)]);
    expect(assignWindows(tumblingEventTimeWindows(10, { offset: 3 }), 3)).toEqual([w(3, 13)]);
    expect(assignWindows(tumblingEventTimeWindows(10, { offset: -3 }), 2)).toEqual([w(-3, 7)]);
    // Flink's classic example: daily windows in UTC+8 use offset -8h.
    const day = tumblingEventTimeWindows("24h", { offset: "-8h" });
    expect(day).toMatchObject({ size: 86_400_000, offset: -28_800_000 });
    expect(assignWindows(day, 0)).toEqual([w(-28_800_000, 57_600_000)]);
  });

  it("takes durations as strings", () => {
    expect(tumblingEventTimeWindows("10s")).toEqual({ kind: "tumbling", time: "event", size: 10_000, offset: 0 });
    expect(tumblingEventTimeWindows("1m", { offset: "500ms" })).toEqual({
      kind: "tumbling",
      time: "event",
      size: 60_000,
      offset: 500,
    });
    expect(tumblingProcessingTimeWindows("500ms")).toEqual({ kind: "tumbling", time: "processing", size: 500, offset: 0 });
  });

  it("is not merging", () => {
    expect(isMerging(tumblingEventTimeWindows(10))).toBe(false);
    expect(isMerging(tumblingProcessingTimeWindows(10))).toBe(false);
  });
});

describe("sliding windows", () => {
  it("assigns the size/slide windows containing t, latest start first (Flink's order)", () => {
    const a = slidingEventTimeWindows(10, 5);
    expect(assignWindows(a, 7)).toEqual([w(5, 15), w(0, 10)]);
    expect(assignWindows(a, 5)).toEqual([w(5, 15), w(0, 10)]);
    expect(assignWindows(a, 4)).toEqual([w(0, 10), w(-5, 5)]);
    expect(assignWindows(slidingEventTimeWindows(30, 10), 25)).toEqual([w(20, 50), w(10, 40), w(0, 30)]);
  });

  it("a timestamp equal to a window's end is not in that window", () => {
    const ws = assignWindows(slidingEventTimeWindows(10, 5), 10);
    expect(ws).toEqual([w(10, 20), w(5, 15)]);
    expect(ws).not.toContainEqual(w(0, 10));
  });

  it("handles negative timestamps and offsets", () => {
    expect(assignWindows(slidingEventTimeWindows(10, 5), -1)).toEqual([w(-5, 5), w(-10, 0)]);
    expect(assignWindows(slidingEventTimeWindows(10, 5, { offset: 2 }), 1)).toEqual([w(-3, 7), w(-8, 2)]);
    expect(assignWindows(slidingEventTimeWindows(10, 5, { offset: -2 }), -3)).toEqual([w(-7, 3), w(-12, -2)]);
  });

  it("size not a multiple of slide: ceil or floor of size/slide windows", () => {
    const a = slidingEventTimeWindows(10, 4);
    expect(assignWindows(a, 0)).toEqual([w(0, 10), w(-4, 6), w(-8, 2)]);
    expect(assignWindows(a, 9)).toEqual([w(8, 18), w(4, 14), w(0, 10)]);
    expect(assignWindows(a, 2)).toEqual([w(0, 10), w(-4, 6)]);
  });

  it("slide > size leaves gaps: timestamps there get no window", () => {
    const a = slidingEventTimeWindows(5, 10);
    expect(assignWindows(a, 3)).toEqual([w(0, 5)]);
    expect(assignWindows(a, 7)).toEqual([]);
  });

  it("takes durations as strings and is not merging", () => {
    expect(slidingEventTimeWindows("1m", "10s")).toEqual({ kind: "sliding", time: "event", size: 60_000, slide: 10_000, offset: 0 });
    const p = slidingProcessingTimeWindows("10s", "5s", { offset: "1s" });
    expect(p).toEqual({ kind: "sliding", time: "processing", size: 10_000, slide: 5_000, offset: 1_000 });
    expect(isMerging(p)).toBe(false);
  });
});

describe("session windows", () => {
  it("assign [t, t + gap) and are merging", () => {
    expect(assignWindows(eventTimeSessionWindows(10), 5)).toEqual([w(5, 15)]);
    expect(assignWindows(eventTimeSessionWindows("1s"), -5)).toEqual([w(-5, 995)]);
    expect(processingTimeSessionWindows("500ms")).toEqual({ kind: "session", time: "processing", gap: 500 });
    expect(isMerging(eventTimeSessionWindows(10))).toBe(true);
    expect(isMerging(processingTimeSessionWindows(10))).toBe(true);
  });
});

describe("factory validation", () => {
  it.each<[string, () => unknown, string[]]>([
    ["zero size", () => tumblingEventTimeWindows(0), ["tumblingEventTimeWindows", "size", "got 0"]],
    ["negative size", () => tumblingProcessingTimeWindows(-5), ["tumblingProcessingTimeWindows", "size", "got -5"]],
    ["fractional size", () => tumblingEventTimeWindows(1.5), ["size", "got 1.5"]],
    ["NaN size", () => tumblingEventTimeWindows(Number.NaN), ["size", "got NaN"]],
    ["infinite size", () => tumblingEventTimeWindows(Number.POSITIVE_INFINITY), ["size", "got Infinity"]],
    ["unparsable size", () => tumblingEventTimeWindows("10 days"), ["size", 'got "10 days"']],
    ["size string rounding to 0", () => tumblingEventTimeWindows("0.2ms"), ["size", 'got "0.2ms"']],
    ["negative size string", () => tumblingEventTimeWindows("-1s"), ["size", 'got "-1s"']],
    ["offset = size", () => tumblingEventTimeWindows(10, { offset: 10 }), ["tumblingEventTimeWindows", "|offset| < size", "got 10"]],
    ["offset = -size", () => tumblingEventTimeWindows("10s", { offset: "-10s" }), ["|offset| < size", 'got "-10s"']],
    ["fractional offset", () => tumblingEventTimeWindows(10, { offset: 0.5 }), ["offset", "got 0.5"]],
    ["bad offset string", () => tumblingEventTimeWindows(10, { offset: "soon" }), ["offset", 'got "soon"']],
    ["zero slide", () => slidingEventTimeWindows(10, 0), ["slidingEventTimeWindows", "slide", "got 0"]],
    ["negative slide", () => slidingProcessingTimeWindows(10, -1), ["slidingProcessingTimeWindows", "slide", "got -1"]],
    ["zero sliding size", () => slidingEventTimeWindows(0, 5), ["slidingEventTimeWindows", "size", "got 0"]],
    ["sliding offset = slide", () => slidingEventTimeWindows(10, 5, { offset: 5 }), ["|offset| < slide", "got 5"]],
    ["sliding offset = -slide", () => slidingEventTimeWindows(10, 5, { offset: -5 }), ["|offset| < slide", "got -5"]],
    ["zero gap", () => eventTimeSessionWindows(0), ["eventTimeSessionWindows", "gap", "got 0"]],
    ["negative gap", () => processingTimeSessionWindows(-10), ["processingTimeSessionWindows", "gap", "got -10"]],
    ["bad gap string", () => eventTimeSessionWindows("1d"), ["eventTimeSessionWindows", "gap", 'got "1d"']],
  ])("rejects %s with a user error naming the function and value", (_, f, fragments) => {
    expectUserError(f, "BAD_WINDOW", ...fragments);
  });

  it("accepts the extreme valid offsets", () => {
    expect(tumblingEventTimeWindows(10, { offset: 9 }).kind).toBe("tumbling");
    expect(tumblingEventTimeWindows(10, { offset: -9 }).kind).toBe("tumbling");
    expect(slidingEventTimeWindows(10, 5, { offset: 4 }).kind).toBe("sliding");
    expect(slidingEventTimeWindows(10, 5, { offset: -4 }).kind).toBe("sliding");
  });

  it("assignWindows rejects a timestamp that is not whole milliseconds", () => {
    const a = tumblingEventTimeWindows(10);
    expectUserError(() => assignWindows(a, Number.NaN), "BAD_TIMESTAMP", "got NaN");
    expectUserError(() => assignWindows(a, 1.5), "BAD_TIMESTAMP", "got 1.5");
    expectUserError(() => assignWindows(eventTimeSessionWindows(10), Number.POSITIVE_INFINITY), "BAD_TIMESTAMP");
  });
});

describe("windowKey", () => {
  it("encodes as start:end (stored in checkpoints: this format must never change)", () => {
    expect(windowKey(w(0, 10))).toBe("0:10");
    expect(windowKey(w(-20, -10))).toBe("-20:-10");
    expect(windowKey(w(1_700_000_000_000, 1_700_000_060_000))).toBe("1700000000000:1700000060000");
  });

  it("gives distinct windows distinct keys", () => {
    const windowArb = fc
      .tuple(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), fc.integer({ min: 1, max: 2 ** 40 }))
      .map(([start, size]) => w(start, start + size));
    fc.assert(
      fc.property(windowArb, windowArb, (a, b) => {
        expect(windowKey(a) === windowKey(b)).toBe(a.start === b.start && a.end === b.end);
      }),
    );
  });
});

describe("mergeSessionWindow", () => {
  it("with no overlap, the added window stands alone", () => {
    expect(mergeSessionWindow([], w(0, 10))).toEqual({ window: w(0, 10), absorbed: [] });
    expect(mergeSessionWindow([w(0, 10), w(30, 40)], w(15, 25))).toEqual({ window: w(15, 25), absorbed: [] });
  });

  it("merges touching windows (end = start counts as overlap)", () => {
    expect(mergeSessionWindow([w(0, 10)], w(10, 20))).toEqual({ window: w(0, 20), absorbed: [w(0, 10)] });
    expect(mergeSessionWindow([w(10, 20)], w(0, 10))).toEqual({ window: w(0, 20), absorbed: [w(10, 20)] });
  });

  it("extends an overlapping window", () => {
    expect(mergeSessionWindow([w(0, 10), w(50, 60)], w(5, 15))).toEqual({ window: w(0, 15), absorbed: [w(0, 10)] });
  });

  it("bridges two sessions into one", () => {
    expect(mergeSessionWindow([w(0, 10), w(100, 110), w(20, 30)], w(8, 21))).toEqual({
      window: w(0, 30),
      absorbed: [w(0, 10), w(20, 30)],
    });
  });

  it("swallows every session the added window spans", () => {
    expect(mergeSessionWindow([w(30, 40), w(0, 10), w(15, 20)], w(5, 35))).toEqual({
      window: w(0, 40),
      absorbed: [w(30, 40), w(0, 10), w(15, 20)],
    });
  });

  it("inside an existing session: the window is that session, and it is absorbed", () => {
    expect(mergeSessionWindow([w(0, 100), w(200, 300)], w(10, 20))).toEqual({ window: w(0, 100), absorbed: [w(0, 100)] });
    expect(mergeSessionWindow([w(0, 100)], w(0, 100))).toEqual({ window: w(0, 100), absorbed: [w(0, 100)] });
  });
});

describe("properties", () => {
  const assignerArb: fc.Arbitrary<WindowAssigner> = fc.oneof(
    fc
      .tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: -499, max: 499 }), fc.boolean())
      .map(([size, o, event]) =>
        (event ? tumblingEventTimeWindows : tumblingProcessingTimeWindows)(size, { offset: o % size }),
      ),
    fc
      .tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: -199, max: 199 }), fc.boolean())
      .map(([size, slide, o, event]) =>
        (event ? slidingEventTimeWindows : slidingProcessingTimeWindows)(size, slide, { offset: o % slide }),
      ),
    fc
      .tuple(fc.integer({ min: 1, max: 500 }), fc.boolean())
      .map(([gap, event]) => (event ? eventTimeSessionWindows : processingTimeSessionWindows)(gap)),
  );

  const length = (a: WindowAssigner): number => (a.kind === "session" ? a.gap : a.size);

  it("every assigned window contains t and has the assigner's size", () => {
    fc.assert(
      fc.property(assignerArb, fc.integer({ min: -1_000_000, max: 1_000_000 }), (a, t) => {
        const ws = assignWindows(a, t);
        for (const x of ws) {
          expect(x.start <= t && t < x.end).toBe(true);
          expect(t <= maxTimestamp(x)).toBe(true);
          expect(x.end - x.start).toBe(length(a));
        }
        if (a.kind !== "sliding") expect(ws).toHaveLength(1);
      }),
    );
  });

  it("sliding: exactly the windows starting at offset + k*slide that contain t, latest first", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: -59, max: 59 }),
        fc.integer({ min: -10_000, max: 10_000 }),
        (size, slide, o, t) => {
          const offset = o % slide;
          const expected: TimeWindow[] = [];
          for (let s = t; s > t - size; s--) {
            if ((((s - offset) % slide) + slide) % slide === 0) expected.push(w(s, s + size));
          }
          const ws = assignWindows(slidingEventTimeWindows(size, slide, { offset }), t);
          expect(ws).toEqual(expected);
          if (size % slide === 0) expect(ws).toHaveLength(size / slide);
        },
      ),
    );
  });

  /** Sessions computed offline: sort, split where a timestamp is past the running session's end. */
  const offlineSessions = (timestamps: readonly number[], gap: number): TimeWindow[] => {
    const sessions: TimeWindow[] = [];
    let current: { start: number; end: number } | undefined;
    for (const t of [...timestamps].sort((a, b) => a - b)) {
      if (current !== undefined && t <= current.end) {
        current.end = Math.max(current.end, t + gap);
      } else {
        if (current !== undefined) sessions.push(w(current.start, current.end));
        current = { start: t, end: t + gap };
      }
    }
    if (current !== undefined) sessions.push(w(current.start, current.end));
    return sessions;
  };

  const byStart = (ws: readonly TimeWindow[]): TimeWindow[] => [...ws].sort((a, b) => a.start - b.start);

  it("incremental session merging keeps sessions disjoint and equals the offline sessions", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -300, max: 300 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 40 }),
        (timestamps, gap) => {
          const assigner = eventTimeSessionWindows(gap);
          let sessions: readonly TimeWindow[] = [];
          for (const t of timestamps) {
            const [added] = assignWindows(assigner, t);
            expect(added).toBeDefined();
            const { window, absorbed } = mergeSessionWindow(sessions, added!);
            for (const x of absorbed) expect(sessions).toContain(x);
            expect(window.start <= added!.start && added!.end <= window.end).toBe(true);
            sessions = [...sessions.filter((s) => !absorbed.includes(s)), window];
            for (const [i, a] of sessions.entries()) {
              for (const b of sessions.slice(i + 1)) expect(intersects(a, b)).toBe(false);
            }
          }
          expect(byStart(sessions)).toEqual(offlineSessions(timestamps, gap));
        },
      ),
    );
  });
});
