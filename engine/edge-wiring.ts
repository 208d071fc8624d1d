/**
 * Which channels an edge between two chains has. Pure.
 *
 * A channel is addressed `[toChain][toSubtask][input][fromSubtask]`; on a point-wise edge
 * fromSubtask is 0 (subtask i feeds subtask i only), on every other edge it is the producing
 * subtask. `hash`, `round-robin`, `broadcast` and `custom` edges join every producer to every
 * consumer; a `rescale` edge joins producer i to a contiguous share of the consumers, as Flink's
 * point-wise wiring of its RescalePartitioner (EdgeManagerBuildUtil.connectPointwise):
 * - p producers >= q consumers: consumer j reads producers [floor(j p / q), floor((j+1) p / q));
 * - p < q: producer i writes consumers [ceil(i q / p), ceil((i+1) q / p)).
 * Every producer has at least one consumer and every consumer at least one producer, so barrier
 * alignment (which waits for the channels a consumer has) and watermarks reach every subtask.
 */
import type { ChainEdgeMode, JobPlan } from "./plan.ts";

const range = (start: number, end: number): number[] => Array.from({ length: end - start }, (_, k) => start + k);

/** The producers (of `p`) consumer `to` of `q` reads from on a rescale edge. */
export const rescaleSources = (to: number, p: number, q: number): number[] =>
  p >= q ? range(Math.floor((to * p) / q), Math.floor(((to + 1) * p) / q)) : range(0, p).filter((i) => rescaleTargets(i, p, q).includes(to));

/** The consumers producer `from` of `p` writes to on a rescale edge to `q` consumers. */
export const rescaleTargets = (from: number, p: number, q: number): number[] =>
  p >= q ? range(0, q).filter((j) => Math.floor((j * p) / q) <= from && from < Math.floor(((j + 1) * p) / q)) : range(Math.ceil((from * q) / p), Math.ceil(((from + 1) * q) / p));

/** The fromSubtask addresses of the channels into consumer `toSubtask` of an edge. */
export const upstreamsOf = (mode: ChainEdgeMode, toSubtask: number, p: number, q: number): number[] =>
  mode === "pointwise" ? [0] : mode === "rescale" ? rescaleSources(toSubtask, p, q) : range(0, p);

/** The consumer subtasks producer `fromSubtask` writes to on an edge, in channel order. */
export const downstreamsOf = (mode: ChainEdgeMode, fromSubtask: number, p: number, q: number): number[] =>
  mode === "pointwise" ? [fromSubtask] : mode === "rescale" ? rescaleTargets(fromSubtask, p, q) : range(0, q);

/** `upstreamsOf` for input `input` of consumer subtask `toSubtask` of chain `chain` of `plan`. */
export const upstreamsIn = (plan: JobPlan, chain: number, input: number, toSubtask: number): number[] => {
  const spec = plan.chains[chain]!.inputs[input]!;
  return upstreamsOf(spec.mode, toSubtask, plan.chains[spec.fromChain]!.parallelism, plan.chains[chain]!.parallelism);
};
