import { describe, expect, it } from "vitest";
import type { Comparison } from "./compare.ts";
import { diagnose, explain, firstDiverging } from "./diagnose.ts";
import type { VerifyNode } from "./instrument.ts";

const node = (id: number, kind: VerifyNode["kind"], inputs: number[], keyed = false, async = false): VerifyNode => ({ id, name: `n${id}`, kind, keyed, async, inputs, keyedInput: false });
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

  it("an asyncMap (keyed state, input not keyed) is named as async I/O, never as keyed or as the key selector's fault", () => {
    // source 0 -> asyncMap 1 -> sink 2
    const chain = [node(0, "source", []), node(1, "operator", [0], false, true), node(2, "sink", [1])];
    const at = (...ids: number[]) => new Map(chain.map((n) => [n.id, ids.includes(n.id) ? differs : same] as const));
    const underKills = diagnose({ nodes: chain, underKills: at(1, 2), reproducible: at(), realSinks: false })!;
    expect(underKills.cause).toBe("async-result-varies");
    expect(explain(underKills)).toMatch(/^operator 'n1' \(async I\/O\): its input matched but its results differ after crashes: its async function's answer depends on more than the record/);
    const unstable = explain(diagnose({ nodes: chain, underKills: at(1, 2), reproducible: at(1, 2), realSinks: false })!);
    expect(unstable).toMatch(/^operator 'n1' \(async I\/O\): two failure-free runs/);
    expect(unstable).not.toMatch(/keyed|key selector/);
  });
});
