/**
 * Window join, window coGroup and interval join through the runtime, each against a brute-force
 * computation over the same inputs (fast-check picks the inputs). Each side is one source split
 * ordered in time, so no record is late.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Source } from "../connectors/source.ts";
import type { DataStream } from "../engine/data-stream.ts";
import { job } from "../engine/job.ts";
import { monotonousTimestamps } from "../engine/watermarks.ts";
import { tumblingEventTimeWindows } from "../operators/window/windows.ts";
import { collectSink, multiset, runDefinition } from "./support/run.ts";

interface Rec {
  readonly k: number;
  readonly t: number;
  readonly id: string;
}

const sourceOf = (name: string, records: readonly Rec[]): Source<Rec, number> => ({
  name,
  bounded: true,
  splits: () => ["only"],
  openReader(_split, position) {
    let at = position ?? 0;
    return {
      read: (max) => {
        if (at >= records.length) return { kind: "end" };
        const batch = records.slice(at, at + Math.min(max, 3));
        at += batch.length;
        return { kind: "records", records: batch };
      },
      position: () => at,
      close: () => undefined,
    };
  },
});

/** Records of one side: sorted by time, ids prefixed by side. */
const side = (prefix: string) =>
  fc
    .array(fc.record({ k: fc.integer({ min: 0, max: 3 }), t: fc.integer({ min: 0, max: 60 }) }), { maxLength: 25 })
    .map((rs) => rs.sort((a, b) => a.t - b.t).map((r, i) => ({ ...r, id: `${prefix}${i}` })));

const run = async (build: (left: DataStream<Rec>, right: DataStream<Rec>) => void, left: Rec[], right: Rec[], parallelism: number) => {
  await runDefinition(
    job("joins", (env) => {
      const l = env.source(sourceOf("left", left), { name: "left", watermarks: monotonousTimestamps((r) => r.t) });
      const r = env.source(sourceOf("right", right), { name: "right", watermarks: monotonousTimestamps((r) => r.t) });
      build(l, r);
    }),
    { parallelism },
  );
};

describe("joins", () => {
  it("window join pairs equal keys in the same tumbling window; coGroup sees both sides per key and window", async () => {
    await fc.assert(
      fc.asyncProperty(side("L"), side("R"), fc.integer({ min: 1, max: 3 }), async (left, right, p) => {
        const joined = collectSink<string>("joined");
        const grouped = collectSink<string>("grouped");
        await run(
          (l, r) => {
            l.join(r)
              .where((x) => x.k)
              .equalTo((y) => y.k)
              .window(tumblingEventTimeWindows(10), { timestamp1: (x) => x.t, timestamp2: (y) => y.t })
              .apply((x, y, w) => `${w.window.start}:${x.id}+${y.id}`, { name: "join" })
              .sink(joined, { name: "joined" });
            l.coGroup(r)
              .where((x) => x.k)
              .equalTo((y) => y.k)
              .window(tumblingEventTimeWindows(10), { timestamp1: (x) => x.t, timestamp2: (y) => y.t })
              .apply<string>((xs, ys, w, out) => out.collect(`${w.key}@${w.window.start}:${xs.length}/${ys.length}`), { name: "cogroup" })
              .sink(grouped, { name: "grouped" });
          },
          left,
          right,
          p,
        );
        const win = (t: number) => t - (t % 10);
        const pairs = left.flatMap((x) => right.filter((y) => y.k === x.k && win(y.t) === win(x.t)).map((y) => `${win(x.t)}:${x.id}+${y.id}`));
        expect(multiset(joined.all())).toEqual(multiset(pairs));
        const groups = new Map<string, [number, number]>();
        for (const x of left) (groups.get(`${x.k}@${win(x.t)}`) ?? groups.set(`${x.k}@${win(x.t)}`, [0, 0]).get(`${x.k}@${win(x.t)}`)!)[0]++;
        for (const y of right) (groups.get(`${y.k}@${win(y.t)}`) ?? groups.set(`${y.k}@${win(y.t)}`, [0, 0]).get(`${y.k}@${win(y.t)}`)!)[1]++;
        expect(multiset(grouped.all())).toEqual(multiset([...groups].map(([g, [a, b]]) => `${g}:${a}/${b}`)));
      }),
      { numRuns: 25 },
    );
  });

  it("interval join pairs each left record with the right records of its key in [t + lower, t + upper]", async () => {
    await fc.assert(
      fc.asyncProperty(side("L"), side("R"), fc.integer({ min: -10, max: 5 }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 3 }), async (left, right, lower, width, p) => {
        const upper = lower + width;
        const out = collectSink<string>("pairs");
        await run(
          (l, r) =>
            l
              .keyBy((x) => x.k)
              .intervalJoin(r.keyBy((y) => y.k))
              .between(lower, upper, { timestamp1: (x) => x.t, timestamp2: (y) => y.t })
              .process<string>((x, y, _k, o) => o.collect(`${x.id}+${y.id}`), { name: "interval" })
              .sink(out, { name: "pairs" }),
          left,
          right,
          p,
        );
        const pairs = left.flatMap((x) => right.filter((y) => y.k === x.k && y.t >= x.t + lower && y.t <= x.t + upper).map((y) => `${x.id}+${y.id}`));
        expect(multiset(out.all())).toEqual(multiset(pairs));
      }),
      { numRuns: 25 },
    );
  });
});
