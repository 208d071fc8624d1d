/**
 * What each keyed operator declares (learnt by creating it once) and the refusal of a restore
 * whose recorded states the job can no longer read: aggregate accumulators and process-function
 * states are compared; added and removed states are fine.
 */
import { describe, expect, it } from "vitest";
import { generator } from "../connectors/generator-source.ts";
import { discard } from "../connectors/discard-sink.ts";
import { valueState, type StateSpec } from "../state/descriptors.ts";
import { buildJob, job } from "./job.ts";
import { paramsFrom } from "./params.ts";
import type { RestorePlan } from "./restore-plan.ts";
import { checkStateCompatibility, declaredStates } from "./state-compatibility.ts";
import { isWeirError } from "../common/errors.ts";

const source = () => generator<{ k: number; v: number }>({ splits: 1, recordsPerSplit: () => 1, generate: ({ index }) => ({ k: index, v: index }) });

const built = (accumulator: () => unknown, state: StateSpec) =>
  buildJob(
    job("compat", (env) => {
      const keyed = env.source(source()).keyBy((r) => r.k);
      keyed.aggregate({ createAccumulator: accumulator, add: (_r, a) => a, getResult: () => 0 }, { name: "agg" }).sink(discard(), { name: "d1" });
      keyed.reduce((a) => a, { name: "red" }).sink(discard(), { name: "d2" });
      keyed.process({ state, processElement: () => undefined }, { name: "proc" }).sink(discard(), { name: "d3" });
    }),
    { params: paramsFrom({}), parallelism: 1 },
  );

const planOf = (layouts: ReturnType<typeof declaredStates>): RestorePlan => ({
  id: 7,
  positions: new Map(),
  watermarks: new Map(),
  keyed: new Map(),
  committables: new Map(),
  writerStates: new Map(),
  layouts,
  keyTypes: new Map(),
});

const refusal = (f: () => void): string => {
  try {
    f();
  } catch (e) {
    if (isWeirError(e) && e.code === "STATE_INCOMPATIBLE") return e.message;
    throw e;
  }
  throw new Error("not refused");
};

describe("state compatibility", () => {
  const original = declaredStates(built(() => 0, { total: valueState(0) }));

  it("records every keyed operator's states with kind and shape", () => {
    expect(original.get("agg")).toEqual([{ name: "aggregate", id: 0, kind: "aggregate", shape: "number" }]);
    expect(original.get("red")).toEqual([{ name: "reduce", id: 0, kind: "reduce" }]);
    expect(original.get("proc")).toEqual([
      { name: "total", id: 0, kind: "value", shape: "number" },
      { name: "__timers", id: 1, kind: "timers" },
    ]);
  });

  it("accepts the same declarations, and states added or removed", () => {
    checkStateCompatibility(planOf(original), declaredStates(built(() => 0, { total: valueState(0) })));
    checkStateCompatibility(planOf(original), declaredStates(built(() => 0, { total: valueState(0), extra: valueState("") })));
    checkStateCompatibility(planOf(original), declaredStates(built(() => 0, {})));
  });

  it("refuses a changed aggregate accumulator and a changed value state, naming both", () => {
    const message = refusal(() =>
      checkStateCompatibility(planOf(original), declaredStates(built(() => ({ sum: 0, n: 0 }), { total: valueState({ sum: 0 }) }))),
    );
    expect(message).toContain("checkpoint 7 cannot be restored");
    expect(message).toContain("state 'aggregate' of operator 'agg' was aggregate number, is now aggregate {n:number,sum:number}");
    expect(message).toContain("state 'total' of operator 'proc' was value number, is now value {sum:number}");
    expect(message).toContain("--fresh");
  });

  it("refuses a state whose ttl was switched on or off, and accepts another duration", () => {
    const withTtl = declaredStates(built(() => 0, { total: valueState(0, { ttl: "1h" }) }));
    expect(withTtl.get("proc")?.[0]).toEqual({ name: "total", id: 0, kind: "value", shape: "number", ttl: 3_600_000 });
    expect(refusal(() => checkStateCompatibility(planOf(original), withTtl))).toContain(
      "state 'total' of operator 'proc' was value number, is now value number (ttl 1h) (a ttl of 1h was added",
    );
    expect(refusal(() => checkStateCompatibility(planOf(withTtl), original))).toContain("its ttl of 1h was removed");
    checkStateCompatibility(planOf(withTtl), declaredStates(built(() => 0, { total: valueState(0, { ttl: "10m" }) })));
  });
});
