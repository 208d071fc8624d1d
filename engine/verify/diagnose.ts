/**
 * Where and why the output of a job diverged under `weir verify`. Pure: it takes the per-node
 * comparisons (taps of sources and operators, and the sinks' committed output) and returns the
 * first node, in topological order, whose output differed while all its inputs matched, with the
 * likely cause:
 *
 * - `non-deterministic`: two failure-free runs differ; named at the first node where they do.
 * - `state-outside-weir`: an operator without Weir state (map, filter, flatMap: not keyed) whose
 *   output differs after crashes from the same input: it keeps something between records.
 * - `keyed-state-outside-weir`: a keyed operator whose input matched but output did not.
 * - `async-result-varies`: an asyncMap whose input matched but results did not.
 * - `source-not-replayable`: a source read other records after crashes.
 * - `at-least-once-sink`: a real sink (--real-sinks) whose committed output differs while its input matched.
 * - `engine`: a redirected (Weir's own exactly-once) sink differs while its input matched.
 */
import type { Comparison } from "./compare.ts";
import type { VerifyNode } from "./instrument.ts";

export type Cause =
  | "non-deterministic"
  | "state-outside-weir"
  | "keyed-state-outside-weir"
  | "async-result-varies"
  | "source-not-replayable"
  | "at-least-once-sink"
  | "engine";

export interface Divergence {
  readonly node: VerifyNode;
  readonly cause: Cause;
}

/** Comparisons per original node id; a node missing from the map was not compared (it matched or was skipped). */
export type NodeComparisons = ReadonlyMap<number, Comparison>;

const differs = (c: Comparison | undefined) => c?.kind === "differs";

/** The first node (topological order) whose output differs while none of its inputs does. */
export const firstDiverging = (nodes: readonly VerifyNode[], comparisons: NodeComparisons): VerifyNode | undefined =>
  nodes.find((n) => differs(comparisons.get(n.id)) && n.inputs.every((i) => !differs(comparisons.get(i))));

export const diagnose = (options: {
  readonly nodes: readonly VerifyNode[];
  /** Failure-free run vs the run under kills. */
  readonly underKills: NodeComparisons;
  /** Failure-free run vs a second failure-free run. */
  readonly reproducible: NodeComparisons;
  /** The sinks under kills were the job's own (--real-sinks). */
  readonly realSinks: boolean;
}): Divergence | undefined => {
  const { nodes } = options;
  const unstable = firstDiverging(nodes, options.reproducible);
  if (unstable !== undefined) return { node: unstable, cause: "non-deterministic" };
  const node = firstDiverging(nodes, options.underKills);
  if (node === undefined) return undefined;
  const cause: Cause =
    node.kind === "source"
      ? "source-not-replayable"
      : node.kind === "sink"
        ? options.realSinks
          ? "at-least-once-sink"
          : "engine"
        : node.keyed
          ? "keyed-state-outside-weir"
          : node.async
            ? "async-result-varies"
            : "state-outside-weir";
  return { node, cause };
};

const operatorKind = (n: VerifyNode) => (n.keyed ? "keyed" : n.async ? "async I/O" : "not keyed: no Weir state");

const what = (n: VerifyNode) => (n.kind === "sink" ? `sink '${n.name}'${n.sinkName === undefined ? "" : ` (${n.sinkName})`}` : n.kind === "source" ? `source '${n.name}'` : `operator '${n.name}' (${operatorKind(n)})`);

/** The explanation printed for the user: what diverged, the likely cause, what to do. */
export const explain = (d: Divergence): string => {
  const n = what(d.node);
  switch (d.cause) {
    case "non-deterministic":
      return `${n}: two failure-free runs of the job differ first here, its input being the same: a function of it${d.node.keyed ? " (or the key selector of the keyBy before it)" : ""} is non-deterministic (Math.random(), Date.now(), iteration order of a Set/Map filled elsewhere...). Make its result depend only on the record${d.node.keyed ? ", the key and its state" : ""}`;
    case "state-outside-weir":
      return `${n}: its output differs after crashes from the same input: it keeps something between records outside Weir's state API (a global or closure variable, e.g. a counter), which a restart resets and a checkpoint does not restore. Derive the value from the record, or keep it in keyed state (keyBy(...).process with valueState)`;
    case "keyed-state-outside-weir":
      return `${n}: its input matched but its output differs after crashes: it keeps state outside its declared state (a closure variable, a Map of its own), which checkpoints do not restore, or its output depends on the order in which one key's records arrive from several inputs (parallel source splits), which varies. Keep state in valueState/listState/mapState; if neither applies, this is a Weir bug, please report it with the seed`;
    case "async-result-varies":
      return `${n}: its input matched but its results differ after crashes: its async function's answer depends on more than the record (a closure or global variable such as a counter, or a service whose answers change or that counts calls: a record in flight at a crash is called again after the restore). Make the answer depend only on the record`;
    case "source-not-replayable":
      return `${n}: it read other records after crashes: it does not resume at the position its checkpoint recorded (a custom Source must snapshot its split positions and restore them)`;
    case "at-least-once-sink":
      return `${n}: its input matched but what it committed did not: the sink is not exactly-once (it makes records visible in write() instead of commit(), or its commit is not idempotent), so a restart from a checkpoint writes again what it had already written. Make write() stage records and commit() publish them`;
    case "engine":
      return `${n}: Weir's own exactly-once file sink committed output that differs from its input, which matched: this is a Weir bug, please report it with the seed`;
  }
};
