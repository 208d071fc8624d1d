/**
 * Runs a planned job in this process: every subtask is an async loop on the event loop,
 * connected by bounded channels. Resolves when every subtask has finished (bounded jobs);
 * rejects with the first failure, after stopping the sources and closing every resource.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Sink } from "../connectors/sink.ts";
import type { Source, SourceContext } from "../connectors/source.ts";
import type { Operator } from "../operators/operator.ts";
import { sinkOperator, type SinkOperator } from "../operators/sink-operator.ts";
import { openHeapBackend } from "../state/heap-backend.ts";
import { KeyedStateStore } from "../state/keyed-store.ts";
import type { KvBackend } from "../state/kv-backend.ts";
import { openRocksBackend } from "../state/rocksdb-backend.ts";
import { isWeirError, describeError, externalError, internalError } from "../common/errors.ts";
import { ChainRunner } from "./chain-runner.ts";
import { Channel } from "./channel.ts";
import { InputGate } from "./input-gate.ts";
import { newJobMetrics, type JobMetrics } from "./metrics.ts";
import { Output, type OutputTarget } from "./output.ts";
import type { ChainPlan, JobPlan } from "./plan.ts";
import { runInputTask, runSourceTask } from "./task.ts";

export type StateBackendKind = "rocksdb" | "heap";

export interface RunOptions {
  readonly plan: JobPlan;
  readonly stateBackend?: StateBackendKind;
  /** Where RocksDB keeps working state for this run (default `.weir/<job>/state/<runId>`). */
  readonly stateDir?: string;
  readonly batchSize?: number;
  /** Batches a channel holds before its producer waits (default 4). */
  readonly channelCapacity?: number;
  /** Injected clock (ms since epoch). */
  readonly now?: () => number;
  readonly runId?: string;
  /** Called once the job is wired, with its live metrics (for progress reporting). */
  readonly onStart?: (metrics: JobMetrics) => void;
  /** Cached state cells per keyed operator subtask before write-behind flushes (default 200k). */
  readonly maxCachedCells?: number;
}

export interface JobResult {
  readonly metrics: JobMetrics;
}

type ChannelGrid = Channel<unknown>[][][][]; // [chain][subtask][input][upstream subtask]

const makeChannels = (plan: JobPlan, capacity: number): ChannelGrid =>
  plan.chains.map((chain) =>
    Array.from({ length: chain.parallelism }, () =>
      chain.inputs.map((input) => {
        const upstream = plan.chains[input.fromChain]!.parallelism;
        const n = input.mode === "pointwise" ? 1 : upstream;
        return Array.from({ length: n }, () => new Channel<unknown>(capacity));
      }),
    ),
  );

const outputFor = (plan: JobPlan, grid: ChannelGrid, chain: ChainPlan, subtask: number): Output => {
  const targets: OutputTarget[] = plan.outputs[chain.index]!.map((out) => {
    const consumer = plan.chains[out.toChain]!;
    const channels =
      out.mode === "pointwise"
        ? [grid[out.toChain]![subtask]![out.inputIndex]![0]!]
        : Array.from({ length: consumer.parallelism }, (_, j) => grid[out.toChain]![j]![out.inputIndex]![subtask]!);
    return { mode: out.mode, partitioning: out.partitioning, channels, consumerName: consumer.nodes[0]!.name };
  });
  return new Output(targets, plan.job.maxParallelism);
};

/** Split `k` (in sorted order) goes to subtask `k mod parallelism`. */
export const assignSplits = (splits: readonly string[], subtask: number, parallelism: number): string[] =>
  [...splits].sort().filter((_, k) => k % parallelism === subtask);

export const runJob = async (options: RunOptions): Promise<JobResult> => {
  const { plan } = options;
  const now = options.now ?? Date.now;
  const runId = options.runId ?? now().toString(36);
  const metrics = newJobMetrics(now());
  const stateKind = options.stateBackend ?? "rocksdb";
  const stateDir = options.stateDir ?? join(".weir", plan.job.name, "state", runId);
  const batchSize = options.batchSize ?? 1024;
  const grid = makeChannels(plan, options.channelCapacity ?? 4);
  const sourceContext: SourceContext = { now };

  const backends: KvBackend[] = [];
  const runners: ChainRunner[] = [];
  let failure: unknown;
  const cancelled = () => failure !== undefined;

  const openBackend = async (operatorName: string, subtask: number): Promise<KvBackend> => {
    if (stateKind === "heap") return openHeapBackend();
    const path = join(stateDir, operatorName, String(subtask));
    await mkdir(path, { recursive: true });
    return openRocksBackend({ path });
  };

  const splitCache = new Map<string, Promise<readonly string[]>>();
  const sourceSplits = (name: string, source: Source<unknown, unknown>) => {
    let splits = splitCache.get(name);
    if (splits === undefined) {
      splits = Promise.resolve()
        .then(() => source.splits(sourceContext))
        .catch((e: unknown) => {
          throw isWeirError(e)
            ? e.withContext({ operator: name })
            : externalError("SOURCE_SPLITS_FAILED", `source '${name}' could not list its splits: ${describeError(e)}`, {
                operator: name,
                cause: e,
              });
        });
      splitCache.set(name, splits);
    }
    return splits;
  };

  const tasks: (() => Promise<void>)[] = [];
  try {
    for (const chain of plan.chains) {
      for (let subtask = 0; subtask < chain.parallelism; subtask++) {
        const operators: Operator<unknown, unknown>[] = [];
        let sink: SinkOperator<unknown> | undefined;
        const head = chain.nodes[0]!;
        for (const node of chain.nodes) {
          const spec = node.spec;
          if (spec.kind === "source") continue;
          if (spec.kind === "sink") {
            const writer = await (spec.sink as Sink<unknown>).createWriter({
              jobName: plan.job.name,
              operatorName: node.name,
              subtask,
              parallelism: chain.parallelism,
              runId,
            });
            sink = sinkOperator(node.name, writer);
            operators.push(sink);
            continue;
          }
          let keyedStore: KeyedStateStore | undefined;
          if (spec.keyed) {
            const backend = await openBackend(node.name, subtask);
            backends.push(backend);
            keyedStore = new KeyedStateStore({ backend, maxCachedCells: options.maxCachedCells });
          }
          operators.push(
            spec.create({
              jobName: plan.job.name,
              operatorName: node.name,
              subtask,
              parallelism: chain.parallelism,
              maxParallelism: plan.job.maxParallelism,
              keyedStore,
            }),
          );
        }
        const runner = new ChainRunner({ operators, sink, output: outputFor(plan, grid, chain, subtask), metrics });
        runners.push(runner);
        if (head.spec.kind === "source") {
          const source = head.spec.source;
          const splits = assignSplits(await sourceSplits(head.name, source), subtask, chain.parallelism);
          metrics.sourceSubtasks++;
          tasks.push(() =>
            runSourceTask({
              source,
              sourceName: head.name,
              splits,
              chain: runner,
              batchSize,
              context: sourceContext,
              metrics,
              cancelled,
            }),
          );
        } else {
          const gate = new InputGate<unknown>(grid[chain.index]![subtask]!.flat());
          tasks.push(() => runInputTask({ gate, chain: runner }));
        }
      }
    }
    options.onStart?.(metrics);
    await new Promise<void>((resolve, reject) => {
      let remaining = tasks.length;
      if (remaining === 0) resolve();
      for (const task of tasks) {
        task().then(
          () => {
            if (--remaining === 0) resolve();
          },
          (e: unknown) => {
            failure ??= e;
            reject(e);
          },
        );
      }
    });
  } catch (e) {
    failure ??= e;
  } finally {
    for (const runner of runners) await runner.close();
    for (const backend of backends) await backend.close().catch(() => undefined);
    if (stateKind === "rocksdb") await rm(stateDir, { recursive: true, force: true });
  }
  if (failure !== undefined) {
    throw isWeirError(failure)
      ? failure
      : internalError("JOB_FAILED", `job '${plan.job.name}' failed: ${describeError(failure)}`, { cause: failure });
  }
  return { metrics };
};
