import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { discard } from "../connectors/discard-sink.ts";
import { generator } from "../connectors/generator-source.ts";
import { downstreamsOf, rescaleSources, rescaleTargets, upstreamsIn } from "./edge-wiring.ts";
import { buildJob, job } from "./job.ts";
import { paramsFrom } from "./params.ts";
import { planJob, type ChainEdgeMode } from "./plan.ts";
import { channelAddresses } from "./worker/placement.ts";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("rescale wiring (Flink's point-wise connection)", () => {
  it("2 -> 3: producer 0 feeds consumers 0 and 1, producer 1 feeds consumer 2", () => {
    expect(range(2).map((i) => rescaleTargets(i, 2, 3))).toEqual([[0, 1], [2]]);
    expect(range(3).map((j) => rescaleSources(j, 2, 3))).toEqual([[0], [0], [1]]);
  });

  it("3 -> 2: consumer 0 reads producer 0, consumer 1 reads producers 1 and 2 (as Flink's connectPointwise)", () => {
    expect(range(2).map((j) => rescaleSources(j, 3, 2))).toEqual([[0], [1, 2]]);
    expect(range(3).map((i) => rescaleTargets(i, 3, 2))).toEqual([[0], [1], [1]]);
  });

  it("4 -> 2 and 2 -> 4 split evenly; equal parallelism is one-to-one", () => {
    expect(range(2).map((j) => rescaleSources(j, 4, 2))).toEqual([[0, 1], [2, 3]]);
    expect(range(2).map((i) => rescaleTargets(i, 2, 4))).toEqual([[0, 1], [2, 3]]);
    expect(range(3).map((i) => rescaleTargets(i, 3, 3))).toEqual([[0], [1], [2]]);
  });

  it("for any p and q: producers and consumers agree, everyone has a channel, shares are contiguous, max(p, q) channels in all", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), (p, q) => {
        const written = range(p).flatMap((i) => rescaleTargets(i, p, q).map((j) => `${i}>${j}`));
        const read = range(q).flatMap((j) => rescaleSources(j, p, q).map((i) => `${i}>${j}`));
        expect(new Set(written)).toEqual(new Set(read));
        expect(written).toHaveLength(Math.max(p, q));
        for (let i = 0; i < p; i++) {
          const t = rescaleTargets(i, p, q);
          expect(t.length).toBeGreaterThan(0);
          expect(t).toEqual(range(t.length).map((k) => t[0]! + k));
        }
        for (let j = 0; j < q; j++) {
          const s = rescaleSources(j, p, q);
          expect(s.length).toBeGreaterThan(0);
          expect(s).toEqual(range(s.length).map((k) => s[0]! + k));
        }
      }),
    );
  });
});

describe("channels of a planned job", () => {
  const numbers = generator({ splits: 4, recordsPerSplit: 1, generate: ({ index }) => index });
  const planWith = (edge: "rescale" | "broadcast" | "rebalance" | "custom", p: number, q: number) =>
    planJob(
      buildJob(
        job("wiring", (env) => {
          const s = env.source(numbers, { name: "src", parallelism: p });
          const routed = edge === "custom" ? s.partitionCustom((k: number, n) => k % n, (x) => x) : s[edge]();
          routed.map((x) => x, { name: "m", parallelism: q }).sink(discard(), { name: "out", parallelism: q });
        }),
        { params: paramsFrom({}), parallelism: 2 },
      ),
    );

  it.each([
    ["rescale", 2, 3, "rescale", 3],
    ["rescale", 3, 2, "rescale", 3],
    ["rescale", 2, 2, "pointwise", 2],
    ["broadcast", 2, 3, "broadcast", 6],
    ["rebalance", 3, 2, "round-robin", 6],
    ["custom", 2, 3, "custom", 6],
  ] as const)("%s %i -> %i: mode %s, %i channels, and each producer writes exactly the channels its consumers read", (edge, p, q, mode, count) => {
    const plan = planWith(edge, p, q);
    const input = plan.chains[1]!.inputs[0]!;
    expect(input.mode satisfies ChainEdgeMode).toBe(mode);
    const addresses = channelAddresses(plan);
    expect(addresses).toHaveLength(count);
    const read = new Set(range(q).flatMap((j) => upstreamsIn(plan, 1, 0, j).map((from) => `${from}>${j}`)));
    const written = new Set(range(p).flatMap((i) => downstreamsOf(input.mode, i, p, q).map((j) => `${mode === "pointwise" ? 0 : i}>${j}`)));
    expect(written).toEqual(read);
  });
});
