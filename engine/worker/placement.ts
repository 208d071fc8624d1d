/**
 * Which worker thread runs which subtask, and which channels cross threads. Pure.
 *
 * As in Flink's slot sharing, slot i holds subtask i of every chain; slot i runs on worker
 * i mod W. A point-wise edge joins subtask i to subtask i, so it never leaves its thread; any
 * other edge's channel from subtask s to subtask j (edge-wiring.ts) crosses threads when s and j
 * live on different workers.
 */
import type { JobPlan } from "../plan.ts";
import type { ChannelAddress } from "../subtask-factory.ts";
import { upstreamsIn } from "../edge-wiring.ts";

export const workerOf = (slot: number, workers: number): number => slot % workers;

/** The slots worker `worker` of `workers` holds, for a plan whose widest chain has `slots` subtasks. */
export const slotsOf = (worker: number, workers: number, slots: number): number[] =>
  Array.from({ length: slots }, (_, i) => i).filter((i) => workerOf(i, workers) === worker);

/** The subtask of the producing chain that writes channel `a`. */
export const producerOf = (plan: JobPlan, a: ChannelAddress): number =>
  plan.chains[a.toChain]!.inputs[a.input]!.mode === "pointwise" ? a.toSubtask : a.fromSubtask;

/** Every channel of the plan. */
export const channelAddresses = (plan: JobPlan): ChannelAddress[] => {
  const out: ChannelAddress[] = [];
  for (const chain of plan.chains) {
    for (let toSubtask = 0; toSubtask < chain.parallelism; toSubtask++) {
      for (let input = 0; input < chain.inputs.length; input++) {
        for (const fromSubtask of upstreamsIn(plan, chain.index, input, toSubtask)) {
          out.push({ toChain: chain.index, toSubtask, input, fromSubtask });
        }
      }
    }
  }
  return out;
};

/** Whether channel `a` joins two different workers. */
export const crossesThreads = (plan: JobPlan, a: ChannelAddress, workers: number): boolean =>
  workerOf(producerOf(plan, a), workers) !== workerOf(a.toSubtask, workers);

/** The widest chain's parallelism: the number of slots. */
export const slotCount = (plan: JobPlan): number => Math.max(...plan.chains.map((c) => c.parallelism));

/**
 * The plan's shape as a string (chains, their operators, parallelism and edges): each worker
 * builds the plan from the job module again and must arrive at the same shape.
 */
export const planShape = (plan: JobPlan): string =>
  JSON.stringify([
    plan.job.maxParallelism,
    plan.chains.map((c) => ({
      n: c.nodes.map((n) => n.name),
      p: c.parallelism,
      i: c.inputs.map((i) => [i.fromChain, i.mode]),
      o: plan.outputs[c.index]!.map((o) => [o.toChain, o.inputIndex, o.mode]),
    })),
  ]);
