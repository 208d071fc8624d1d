import { describe, expect, it } from "vitest";
import { discard } from "../connectors/discard-sink.ts";
import { generator } from "../connectors/generator-source.ts";
import { buildJob, job, type JobDefinition } from "./job.ts";
import { paramsFrom } from "./params.ts";
import { planJob } from "./plan.ts";

const numbers = generator({ splits: 4, recordsPerSplit: 10, generate: ({ index }) => index });
const plan = (definition: JobDefinition, parallelism = 2) =>
  planJob(buildJob(definition, { params: paramsFrom({}), parallelism }));
const chainNames = (definition: JobDefinition, parallelism = 2) => plan(definition, parallelism).chains.map((c) => c.name);

describe("planner", () => {
  it("chains forward operators of equal parallelism into one task", () => {
    const names = chainNames(
      job("chain", (env) =>
        env
          .source(numbers, { name: "src" })
          .map((x) => x + 1, { name: "inc" })
          .filter((x) => x > 0, { name: "pos" })
          .sink(discard(), { name: "out" }),
      ),
    );
    expect(names).toEqual(["src -> inc -> pos -> out"]);
  });

  it("ends a chain at keyBy and routes the edge by key group", () => {
    const p = plan(
      job("keyed", (env) =>
        env
          .source(numbers, { name: "src" })
          .map((x) => x * 2, { name: "double" })
          .keyBy((x) => x % 3)
          .reduce((a, b) => a + b, { name: "sum" })
          .sink(discard(), { name: "out" }),
      ),
    );
    expect(p.chains.map((c) => c.name)).toEqual(["src -> double", "sum -> out"]);
    expect(p.chains[1]!.inputs).toMatchObject([{ fromChain: 0, mode: "hash" }]);
  });

  it("breaks the chain where parallelism changes, spreading round-robin", () => {
    const p = plan(
      job("rescale", (env) =>
        env
          .source(numbers, { name: "src" })
          .map((x) => x, { name: "wide", parallelism: 3 })
          .sink(discard(), { name: "out", parallelism: 3 }),
      ),
    );
    expect(p.chains.map((c) => [c.name, c.parallelism])).toEqual([
      ["src", 2],
      ["wide -> out", 3],
    ]);
    expect(p.chains[1]!.inputs).toMatchObject([{ mode: "round-robin" }]);
  });

  it("does not chain into a stream read by two consumers, nor a union", () => {
    const p = plan(
      job("fanout", (env) => {
        const s = env.source(numbers, { name: "src" });
        const a = s.map((x) => x, { name: "a" });
        const b = s.map((x) => -x, { name: "b" });
        a.union(b).map((x) => x, { name: "merged" }).sink(discard(), { name: "out" });
      }),
    );
    expect(p.chains.map((c) => c.name)).toEqual(["src", "a", "b", "merged -> out"]);
    expect(p.chains[3]!.inputs.map((i) => [i.fromChain, i.mode])).toEqual([
      [1, "pointwise"],
      [2, "pointwise"],
    ]);
    expect(p.outputs[0]!.map((o) => o.toChain)).toEqual([1, 2]);
  });

  it("honours an explicit rebalance between equal parallelisms", () => {
    const p = plan(
      job("rebalance", (env) => env.source(numbers, { name: "src" }).rebalance().map((x) => x, { name: "m" }).sink(discard(), { name: "out" })),
    );
    expect(p.chains.map((c) => c.name)).toEqual(["src", "m -> out"]);
    expect(p.chains[1]!.inputs[0]!.mode).toBe("round-robin");
  });

  it("rejects duplicate operator names, jobs without a sink, and keyed parallelism above maxParallelism", () => {
    expect(() => plan(job("dup", (env) => env.source(numbers, { name: "x" }).map((v) => v, { name: "x" }).sink(discard())))).toThrow(
      /two operators with the uid 'x'/,
    );
    expect(() => plan(job("nosink", (env) => void env.source(numbers).map((v) => v)))).toThrow(/defines no sink/);
    expect(() =>
      plan(
        job("toowide", (env) => env.source(numbers).keyBy((v) => v).reduce((a, b) => a + b).sink(discard()), { maxParallelism: 4 }),
        8,
      ),
    ).toThrow(/above the job's maxParallelism 4/);
  });
});
