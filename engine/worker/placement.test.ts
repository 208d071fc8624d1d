import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { discard } from "../../connectors/discard-sink.ts";
import { generator } from "../../connectors/generator-source.ts";
import { buildJob, job } from "../job.ts";
import { paramsFrom } from "../params.ts";
import { planJob } from "../plan.ts";
import { channelAddresses, crossesThreads, planShape, producerOf, slotCount, slotsOf, workerOf } from "./placement.ts";

const numbers = generator({ splits: 4, recordsPerSplit: 10, generate: ({ index }) => index });
/** src -> double | hash | sum | forward (another parallelism: round-robin) | out */
const planAt = (parallelism: number, sinkParallelism = parallelism) =>
  planJob(
    buildJob(
      job("placed", (env) =>
        env
          .source(numbers, { name: "src" })
          .map((x) => x * 2, { name: "double" })
          .keyBy((x) => x % 3)
          .reduce((a, b) => a + b, { name: "sum" })
          .sink(discard(), { name: "out", parallelism: sinkParallelism }),
      ),
      { params: paramsFrom({}), parallelism },
    ),
  );

describe("placement of slots on worker threads", () => {
  it("puts slot i on worker i mod W, every slot exactly once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 8 }), (slots, workers) => {
        const all = Array.from({ length: workers }, (_, w) => slotsOf(w, workers, slots)).flat().sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: slots }, (_, i) => i));
        for (let w = 0; w < workers; w++) for (const s of slotsOf(w, workers, slots)) expect(workerOf(s, workers)).toBe(w);
      }),
    );
  });

  it("has as many slots as the widest chain", () => {
    expect(slotCount(planAt(3, 1))).toBe(3);
    expect(slotCount(planAt(2, 5))).toBe(5);
  });

  it("keeps point-wise edges inside a thread; hash edges cross exactly between subtasks on different workers", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), (p, sinkP, workers) => {
        const plan = planAt(p, sinkP);
        for (const a of channelAddresses(plan)) {
          const mode = plan.chains[a.toChain]!.inputs[a.input]!.mode;
          const crosses = crossesThreads(plan, a, workers);
          if (mode === "pointwise") expect(crosses).toBe(false);
          else expect(crosses).toBe(a.fromSubtask % workers !== a.toSubtask % workers);
          expect(producerOf(plan, a)).toBe(mode === "pointwise" ? a.toSubtask : a.fromSubtask);
        }
      }),
    );
  });

  it("lists every channel once: consumers x producers per edge (one per consumer on a point-wise edge)", () => {
    const plan = planAt(3, 2); // src->double (3) =hash=> sum (3) =round-robin=> out (2)
    expect(plan.chains.map((c) => c.inputs.map((i) => i.mode))).toEqual([[], ["hash"], ["round-robin"]]);
    expect(channelAddresses(plan)).toHaveLength(3 * 3 + 2 * 3);
  });

  it("gives the same shape for the same job and parameters, another for another parallelism", () => {
    expect(planShape(planAt(2))).toBe(planShape(planAt(2)));
    expect(planShape(planAt(2))).not.toBe(planShape(planAt(3)));
  });
});
