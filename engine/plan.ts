/**
 * The planner: turns the logical graph into chains (tasks) and the edges between them.
 *
 * Chaining: a node joins its upstream's chain when it has exactly one input, that input is
 * `forward`, the upstream feeds nothing else, and both have the same parallelism; except that an
 * operator that wakes its task (NodeSpec `wakes`, async I/O) never joins a source's chain (a
 * source task is not woken). A chain runs its operators back to back on the same batch: no
 * channel and no copy between them.
 *
 * Edges between chains: `hash` routes each record by key group, `custom` by the user's
 * partitioner; `forward` and `rescale` between equal parallelisms are point-wise (subtask i to
 * subtask i); `rescale` across a parallelism change joins each producer to its contiguous share of
 * consumers (edge-wiring.ts) and spreads batches round-robin over them; `broadcast` sends every
 * batch to every consumer; otherwise (`rebalance`, or `forward` across a parallelism change)
 * batches are spread round-robin over every consumer.
 */
import type { GraphNode, Partitioning } from "./graph.ts";
import type { BuiltJob } from "./job.ts";

export type ChainEdgeMode = "pointwise" | "hash" | "round-robin" | "rescale" | "broadcast" | "custom";

/** The edge mode of `partitioning` from a producer of parallelism `from` to a consumer of `to`. */
export const edgeMode = (partitioning: Partitioning, from: number, to: number): ChainEdgeMode => {
  switch (partitioning.kind) {
    case "hash":
      return "hash";
    case "custom":
      return "custom";
    case "broadcast":
      return "broadcast";
    case "forward":
      return from === to ? "pointwise" : "round-robin";
    case "rescale":
      return from === to ? "pointwise" : "rescale";
    case "rebalance":
      return "round-robin";
  }
};

export interface ChainInput {
  readonly fromChain: number;
  readonly mode: ChainEdgeMode;
  readonly partitioning: Partitioning;
}

export interface ChainPlan {
  readonly index: number;
  readonly name: string;
  readonly nodes: readonly GraphNode[];
  readonly parallelism: number;
  readonly inputs: readonly ChainInput[];
}

export interface ChainOutput {
  readonly toChain: number;
  /** Which of the consumer's inputs this is. */
  readonly inputIndex: number;
  readonly mode: ChainEdgeMode;
  readonly partitioning: Partitioning;
  /**
   * The producer emits side records (a process function whose side outputs the job selects)
   * and this consumer wants its main output only: the edge drops them.
   */
  readonly mainOnly: boolean;
}

export interface JobPlan {
  readonly job: BuiltJob;
  readonly chains: readonly ChainPlan[];
  /** outputs[c]: where chain c's records go. */
  readonly outputs: readonly (readonly ChainOutput[])[];
}

export const planJob = (job: BuiltJob): JobPlan => {
  const parallelismOf = (n: GraphNode) => n.parallelism ?? job.defaultParallelism;
  const consumers = new Map<number, number>();
  for (const n of job.nodes) for (const e of n.inputs) consumers.set(e.from, (consumers.get(e.from) ?? 0) + 1);

  const chainOf = new Map<number, number>();
  const members: GraphNode[][] = [];
  for (const node of job.nodes) {
    const only = node.inputs.length === 1 ? node.inputs[0]! : undefined;
    const upstream = only === undefined ? undefined : job.nodes[only.from]!;
    const chainable =
      only !== undefined &&
      upstream !== undefined &&
      only.partitioning.kind === "forward" &&
      consumers.get(only.from) === 1 &&
      upstream.spec.kind !== "sink" &&
      parallelismOf(upstream) === parallelismOf(node) &&
      !(node.spec.kind === "operator" && node.spec.wakes === true && members[chainOf.get(upstream.id)!]![0]!.spec.kind === "source");
    if (chainable) {
      const c = chainOf.get(upstream.id)!;
      members[c]!.push(node);
      chainOf.set(node.id, c);
    } else {
      chainOf.set(node.id, members.length);
      members.push([node]);
    }
  }

  const chains: ChainPlan[] = members.map((nodes, index) => {
    const head = nodes[0]!;
    const parallelism = parallelismOf(head);
    const inputs = head.inputs.map((edge): ChainInput => {
      const fromChain = chainOf.get(edge.from)!;
      const upstreamParallelism = parallelismOf(job.nodes[edge.from]!);
      return { fromChain, mode: edgeMode(edge.partitioning, upstreamParallelism, parallelism), partitioning: edge.partitioning };
    });
    return { index, name: nodes.map((n) => n.name).join(" -> "), nodes, parallelism, inputs };
  });

  const emitsSideRecords = (c: ChainPlan): boolean => {
    const last = c.nodes[c.nodes.length - 1]!.spec;
    return last.kind === "operator" && last.sideOutputs?.any === true;
  };
  const outputs: ChainOutput[][] = chains.map(() => []);
  for (const chain of chains) {
    const head = chain.nodes[0]!.spec;
    const selectsSide = head.kind === "operator" && head.selectsSideOutput === true;
    chain.inputs.forEach((input, inputIndex) => {
      const mainOnly = !selectsSide && emitsSideRecords(chains[input.fromChain]!);
      outputs[input.fromChain]!.push({ toChain: chain.index, inputIndex, mode: input.mode, partitioning: input.partitioning, mainOnly });
    });
  }
  return { job, chains, outputs };
};
