import { describe, expect, it } from "vitest";
import type { Comparison } from "./compare.ts";
import { diagnose, explain, firstDiverging } from "./diagnose.ts";
import type { VerifyNode } from "./instrument.ts";

const node = (id: number, kind: VerifyNode["kind"], inputs: number[], keyed = false): VerifyNode => ({ id, name: `n${id}`, kind, keyed, inputs, keyedInput: false });
// source 0 -> map 1 -> keyed 2 -> sink 3
const nodes = [node(0, "source", []), node(1, "operator", [0]), node(2, "operator", [1], true), node(3, "sink", [2])];
const same: Comparison = { kind: "same", records: 1 };
const none = { count: 0, examples: [] };
const differs: Comparison = { kind: "differs", expected: 1, actual: 2, lost: none, duplicated: { count: 1, examples: ["1"] }, unexpected: none, reordered: none };
const comparisons = (...differing: number[]) => new Map(nodes.map((n) => [n.id, differing.includes(n.id) ? differs : same] as const));

describe("diagnose", () => {
  it("the first diverging node is the first one, in topological order, whose inputs all matched", () => {
    expect(firstDiverging(nodes, comparisons(1, 2, 3))?.id).toBe(1);
    expect(firstDiverging(nodes, comparisons(3))?.id).toBe(3);
    expect(firstDiverging(nodes, comparisons())).toBeUndefined();
  });

  it("names the cause by the kind of the first diverging node", () => {
    const cause = (differing: number[], realSinks = false) => diagnose({ nodes, underKills: comparisons(...differing), reproducible: comparisons(), realSinks })?.cause;
    expect(cause([1, 2, 3])).toBe("state-outside-weir");
    expect(cause([2, 3])).toBe("keyed-state-outside-weir");
    expect(cause([0, 1, 2, 3])).toBe("source-not-replayable");
    expect(cause([3], true)).toBe("at-least-once-sink");
    expect(cause([3], false)).toBe("engine");
    expect(cause([])).toBeUndefined();
  });

  it("two failure-free runs that differ make it non-determinism, named where they first differ", () => {
    const d = diagnose({ nodes, underKills: comparisons(1, 2, 3), reproducible: comparisons(2, 3), realSinks: false });
    expect(d).toEqual({ node: nodes[2], cause: "non-deterministic" });
    expect(explain(d!)).toContain("operator 'n2' (keyed): two failure-free runs of the job differ first here");
  });
});
