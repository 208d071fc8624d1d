/**
 * engine/: the fluent job API, the planner (chaining) and the in-process runtime.
 *
 * ```ts
 * const plan = planJob(buildJob(definition, { params: paramsFrom({}), parallelism: 2 }));
 * const { metrics } = await runJob({ plan, stateBackend: "rocksdb" });
 * ```
 */
export { job, buildJob, isJobDefinition, type JobDefinition, type JobEnv, type JobOptions, type BuiltJob } from "./job.ts";
export type { AsyncMapOptions, DataStream, KeyedStream, OperatorOptions } from "./data-stream.ts";
export { paramsFrom, parseParamArgs, type Params } from "./params.ts";
export { planJob, type JobPlan, type ChainPlan, type ChainInput, type ChainOutput, type ChainEdgeMode } from "./plan.ts";
export { runJob, assignSplits, type RunOptions, type JobResult, type StateBackendKind } from "./runtime.ts";
export type { JobMetrics } from "./metrics.ts";
export { batchOf, watermark, barrier, endOfInput, type StreamElement } from "./elements.ts";
export { Channel } from "./channel.ts";
export { InputGate, type GateElement } from "./input-gate.ts";
