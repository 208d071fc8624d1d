import { describe, expect, it } from "vitest";
import type { CheckpointMetadata, TaskSnapshot } from "../checkpoint/metadata.ts";
import { restorePlanFrom, unknownOperators, withoutOperators } from "./restore-plan.ts";

const task = (id: string, broadcast?: TaskSnapshot["broadcast"]): TaskSnapshot => ({
  task: id,
  sources: [],
  keyed: [],
  sinks: [],
  durationMs: 1,
  ...(broadcast === undefined ? {} : { broadcast }),
});

const metadata = (tasks: TaskSnapshot[]): CheckpointMetadata => ({
  format: 2,
  job: "j",
  id: 4,
  timestamp: 0,
  completedAt: 1,
  final: false,
  maxParallelism: 128,
  tasks,
});

describe("restore plan: broadcast state", () => {
  it("holds one copy of each operator's broadcast states; an operator the job no longer has is reported and can be dropped", () => {
    const plan = restorePlanFrom(metadata([task("1-0", [{ operator: "rules", subtask: 0, states: { r: "kAA=" } }]), task("1-1")]), "/chk/j/chk-4");
    expect([...(plan.broadcast ?? new Map())]).toEqual([["rules", { r: "kAA=" }]]);
    expect(unknownOperators(plan, new Set(["other"]))).toEqual(["rules"]);
    expect(unknownOperators(plan, new Set(["rules"]))).toEqual([]);
    expect([...(withoutOperators(plan, ["rules"]).broadcast ?? new Map())]).toEqual([]);
  });

  it("reads checkpoints without broadcast state (older ones, or jobs without it) as holding none", () => {
    expect(restorePlanFrom(metadata([task("0-0")]), "/chk/j/chk-4").broadcast?.size).toBe(0);
  });
});
