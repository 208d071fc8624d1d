/**
 * Subtask creation: for each slot given, every chain's subtask in that slot with its operators,
 * keyed state (restored or new), sink writers and channel ends. The same code builds all subtasks
 * of a single-loop run (runtime.ts) and a worker thread's share of them (worker/worker-main.ts).
 *
 * Failure behaviour: what was created before a failure is already in `into` (tasks, runners,
 * backends), so the caller's teardown releases it.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Sink } from "../connectors/sink.ts";
import type { Source, SourceContext } from "../connectors/source.ts";
import type { Operator } from "../operators/operator.ts";
import { sinkOperator, type SinkOperator } from "../operators/sink-operator.ts";
import { openHeapBackend } from "../state/heap-backend.ts";
import { skipNeverWritten } from "../state/absent-keys-backend.ts";
import { KeyedStateStore } from "../state/keyed-store.ts";
import type { KvBackend } from "../state/kv-backend.ts";
import { keyGroupRangeFor } from "../state/key-groups.ts";
import { openRocksBackend } from "../state/rocksdb-backend.ts";
import { digestsOf, restoreBackend, type KnownDigests, type StateFile } from "../state/snapshot.ts";
import type { Clock } from "../common/clock.ts";
import { failpoint } from "../common/failpoints.ts";
import { isWeirError, userError } from "../common/errors.ts";
import { ChainRunner } from "./chain-runner.ts";
import { downstreamsOf, upstreamsIn } from "./edge-wiring.ts";
import type { ChannelReader, ChannelWriter } from "./channel.ts";
import { InputGate } from "./input-gate.ts";
import { InputTask } from "./input-task.ts";
import type { JobMetrics } from "./metrics.ts";
import { newTaskMetrics, type TaskMetrics } from "./task-metrics.ts";
import { Output, type OutputTarget } from "./output.ts";
import type { JobPlan } from "./plan.ts";
import { keyedSourcesFor, type RestorePlan } from "./restore-plan.ts";
import { SourceTask } from "./source-task.ts";
import { assignSplits, startPositions, unlistedSplits } from "./split-assignment.ts";
import { timerWithoutWatermarks } from "./watermark-check.ts";
import type { BroadcastSlot, CheckpointBridge, KeyedSlot, Subtask, SubtaskSink } from "./subtask.ts";
import { BroadcastStore } from "../state/broadcast-state.ts";
import { sideSinkOf } from "./side-sinks.ts";
import type { RunPhase, StateBackendKind } from "./runtime.ts";

/** Where channel `[toChain][toSubtask][input][fromSubtask]` ends (fromSubtask is 0 on a point-wise edge). */
export interface ChannelAddress {
  readonly toChain: number;
  readonly toSubtask: number;
  readonly input: number;
  readonly fromSubtask: number;
}

/** The channel ends a set of slots uses: in-thread channels, or ring ends for those that cross a thread. */
export interface ChannelEnds {
  writer(address: ChannelAddress): ChannelWriter<unknown>;
  reader(address: ChannelAddress): ChannelReader<unknown>;
}

/** The run's settings every subtask is made with: plain data, the same on every thread. */
export interface SubtaskSettings {
  readonly runId: string;
  readonly stateKind: StateBackendKind;
  /** This run's working folder (claimed by the caller). */
  readonly stateDir: string;
  readonly restore: (RestorePlan & { readonly maxParallelism: number }) | undefined;
  readonly batchSize: number;
  readonly maxCachedCells: number | undefined;
  readonly checkpointIntervalMs: number;
}

export interface SubtaskFactoryContext extends SubtaskSettings {
  readonly plan: JobPlan;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  readonly onPhase: (phase: RunPhase) => void;
  readonly metrics: JobMetrics;
  readonly bridge: CheckpointBridge;
  readonly channels: ChannelEnds;
  /** Every split of the named source, as listed once for the whole run. */
  readonly splitsOf: (source: string) => Promise<readonly string[]>;
  readonly cancelled: () => boolean;
  /** A source subtask ended every split. */
  readonly sourceFinished: () => void;
}

export interface CreatedSubtasks {
  readonly tasks: Subtask[];
  readonly runners: ChainRunner[];
  readonly backends: KvBackend[];
}

const outputFor = (ctx: SubtaskFactoryContext, chainIndex: number, subtask: number, taskMetrics: TaskMetrics): Output => {
  const { plan } = ctx;
  const targets: OutputTarget[] = plan.outputs[chainIndex]!.map((out) => {
    const consumer = plan.chains[out.toChain]!;
    const at = (toSubtask: number, fromSubtask: number) => ctx.channels.writer({ toChain: out.toChain, toSubtask, input: out.inputIndex, fromSubtask });
    const producers = plan.chains[chainIndex]!.parallelism;
    const from = out.mode === "pointwise" ? 0 : subtask;
    const channels = downstreamsOf(out.mode, subtask, producers, consumer.parallelism).map((j) => at(j, from));
    return { mode: out.mode, partitioning: out.partitioning, channels, consumerName: consumer.nodes[0]!.name, mainOnly: out.mainOnly };
  });
  return new Output(targets, plan.job.maxParallelism, taskMetrics);
};

/** A callback that logs `warning: <line>` the first time any subtask of `operator` calls it; undefined without a line. */
const warnOnce = (warned: Set<string>, operator: string, line: string | undefined, log: (line: string) => void): (() => void) | undefined =>
  line === undefined
    ? undefined
    : () => {
        if (warned.has(operator)) return;
        warned.add(operator);
        log(`warning: ${line}`);
      };

/** Creates the subtasks of `slots` (slot i: subtask i of every chain that has one), in chain order. */
export const createSubtasks = async (ctx: SubtaskFactoryContext, slots: readonly number[], into: CreatedSubtasks): Promise<void> => {
  const { plan, restore, metrics, log } = ctx;
  const job = plan.job;
  const now = () => ctx.clock.now();
  const sourceContext: SourceContext = { now, jobName: job.name, runId: ctx.runId };

  const openKeyedBackend = async (operator: string, subtask: number, parallelism: number): Promise<KvBackend> => {
    const workDir = join(ctx.stateDir, operator, String(subtask));
    if (restore !== undefined) {
      failpoint("restore");
      const range = keyGroupRangeFor(subtask, parallelism, job.maxParallelism);
      const sources = keyedSourcesFor(restore, operator, range);
      if (sources.length > 0) {
        const phase = { operator, subtask, sources: sources.length };
        ctx.onPhase({ kind: "state-restoring", ...phase });
        await mkdir(join(ctx.stateDir, operator), { recursive: true });
        const backend = await restoreBackend({ kind: ctx.stateKind, range, sources, workDir });
        ctx.onPhase({ kind: "state-restored", ...phase });
        return backend;
      }
    }
    if (ctx.stateKind === "heap") return openHeapBackend();
    await mkdir(workDir, { recursive: true });
    return openRocksBackend({ path: workDir });
  };

  /** Checksums of the restored files a subtask's backend may share, so its first snapshot does not hash them again. */
  const restoredDigests = async (operator: string, subtask: number, parallelism: number): Promise<KnownDigests> => {
    const sources = restore === undefined ? [] : keyedSourcesFor(restore, operator, keyGroupRangeFor(subtask, parallelism, job.maxParallelism));
    // By file identity (inode): only the files a restore linked into the backend can match.
    const known = new Map<string, StateFile>();
    for (const source of sources) for (const [identity, file] of await digestsOf(source)) known.set(identity, file);
    return known;
  };

  const writerContext = (operatorName: string, subtask: number, parallelism: number) => ({
    jobName: job.name,
    operatorName,
    subtask,
    parallelism,
    runId: ctx.runId,
    checkpointIntervalMs: ctx.checkpointIntervalMs,
  });

  const timerWarning = timerWithoutWatermarks(job);
  const warned = new Set<string>();
  for (const chain of plan.chains) {
    for (const subtask of slots) {
      if (subtask >= chain.parallelism) continue;
      const operators: Operator<unknown, unknown>[] = [];
      const keyed: KeyedSlot[] = [];
      const broadcast: BroadcastSlot[] = [];
      let sink: { operator: string; subtask: number; op: SinkOperator<unknown> } | undefined;
      const head = chain.nodes[0]!;
      // Operators that wake their task (async I/O) are only planned into input tasks (plan.ts).
      let wakeTask: () => void = () => undefined;
      for (const node of chain.nodes) {
        const spec = node.spec;
        if (spec.kind === "source") continue;
        if (spec.kind === "sink") {
          // A sink that cannot start (e.g. its output directory cannot be created) names its operator.
          const writer = await Promise.resolve()
            .then(() => (spec.sink as Sink<unknown>).createWriter(writerContext(node.name, subtask, chain.parallelism)))
            .catch((e: unknown) => {
              throw isWeirError(e) ? e.withContext({ operator: node.name }) : e;
            });
          const op = sinkOperator(node.name, writer, { clock: ctx.clock });
          sink = { operator: node.name, subtask, op };
          operators.push(op);
          continue;
        }
        let keyedStore: KeyedStateStore | undefined;
        if (spec.keyed) {
          const backend = await openKeyedBackend(node.name, subtask, chain.parallelism);
          // Snapshots copy `backend` itself; the store reads through the wrapper, which skips the
          // reads of keys never written since an empty start (absent-keys-backend.ts). Teardown
          // closes the wrapper (which closes `backend`), so a late read rejects as closed.
          const reading = await skipNeverWritten(backend);
          into.backends.push(reading);
          const layout = restore?.layouts.get(node.name);
          const keyTypes = restore?.keyTypes.get(node.name);
          keyedStore = new KeyedStateStore({
            backend: reading,
            maxCachedCells: ctx.maxCachedCells,
            operator: node.name,
            counters: metrics.stateCache,
            keyGroups: keyGroupRangeFor(subtask, chain.parallelism, job.maxParallelism),
            ...(layout === undefined ? {} : { layout }),
            ...(keyTypes === undefined ? {} : { keyTypes }),
          });
          keyed.push({
            operator: node.name,
            store: keyedStore,
            backend,
            range: keyGroupRangeFor(subtask, chain.parallelism, job.maxParallelism),
            subtask,
            parallelism: chain.parallelism,
            previousFiles: await restoredDigests(node.name, subtask, chain.parallelism),
          });
        }
        let broadcastStore: BroadcastStore | undefined;
        if (spec.broadcastStates !== undefined) {
          // Every subtask, at any parallelism, restores the checkpoint's one copy (broadcast-state.ts).
          const restored = restore?.broadcast?.get(node.name);
          broadcastStore = new BroadcastStore({ operator: node.name, declared: spec.broadcastStates, ...(restored === undefined ? {} : { restored }) });
          broadcast.push({ operator: node.name, subtask, store: broadcastStore });
        }
        operators.push(
          spec.create({
            jobName: job.name,
            operatorName: node.name,
            subtask,
            parallelism: chain.parallelism,
            maxParallelism: job.maxParallelism,
            keyedStore,
            ...(broadcastStore === undefined ? {} : { broadcastStore }),
            now,
            clock: ctx.clock,
            wake: () => wakeTask(),
            eventTimeWithoutWatermarks: warnOnce(warned, node.name, timerWarning(node), log),
          }),
        );
        // States declared at a higher version than the restored checkpoint's: migrated before any record.
        if (keyedStore !== undefined && restore !== undefined) {
          const migrated = await keyedStore.migrateRestored(keyGroupRangeFor(subtask, chain.parallelism, job.maxParallelism));
          for (const m of migrated) {
            log(`migrated state '${m.state}' of operator '${node.name}' from version ${m.from} to ${m.to}: ${m.values} values in subtask ${subtask}`);
          }
        }
      }
      const taskMetrics = newTaskMetrics(chain.index, subtask, Date.now());
      metrics.tasks.push(taskMetrics);
      const runner = new ChainRunner({ operators, sink: sink?.op, output: outputFor(ctx, chain.index, subtask, taskMetrics), metrics });
      into.runners.push(runner);
      const id = `${chain.index}-${subtask}`;
      if (head.spec.kind === "source") {
        const source = head.spec.source as Source<unknown, unknown>;
        const allSplits = await ctx.splitsOf(head.name);
        const unlisted = unlistedSplits(allSplits, restore?.positions.get(head.name));
        if (unlisted.length > 0) {
          throw userError(
            "RESTORE_UNKNOWN_SPLITS",
            `checkpoint ${restore?.id} holds positions of splits that source '${head.name}' does not list (${unlisted.slice(0, 5).join(", ")}${unlisted.length > 5 ? ", ..." : ""}; it lists ${allSplits.slice(0, 5).join(", ")}${allSplits.length > 5 ? ", ..." : ""}): resuming would lose or repeat their records. Run with the source's settings of that checkpoint (e.g. the same --param splits), or start over with --fresh`,
            { operator: head.name },
          );
        }
        const splits = assignSplits(allSplits, subtask, chain.parallelism, source.discovery);
        const side = sideSinkOf(head);
        const sideSinks: SubtaskSink[] = [];
        if (side !== undefined) {
          const writer = await side.sink.createWriter(writerContext(side.operator, subtask, chain.parallelism));
          sideSinks.push({ operator: side.operator, subtask, op: sinkOperator(side.operator, writer, { clock: ctx.clock }) });
        }
        const sideOutput = sideSinks[0]?.op;
        metrics.sourceSubtasks++;
        into.tasks.push(
          new SourceTask({
            id,
            chain: runner,
            keyed,
            broadcast,
            sink,
            sideSinks,
            bridge: ctx.bridge,
            source,
            sourceName: head.name,
            splits,
            knownSplits: allSplits,
            subtask,
            parallelism: chain.parallelism,
            positions: startPositions(source, splits, restore?.positions.get(head.name)),
            watermarks: head.spec.watermarks,
            restoredWatermarks: restore?.watermarks.get(head.name) ?? {},
            batchSize: ctx.batchSize,
            context: {
              ...sourceContext,
              subtask,
              ...(sideOutput === undefined ? {} : { sideOutput: { write: (records: readonly unknown[]) => sideOutput.processBatch(records, []) } }),
            },
            metrics,
            taskMetrics,
            cancelled: ctx.cancelled,
            onFinished: ctx.sourceFinished,
          }),
        );
      } else {
        // Exactly the channels this subtask has (fewer than the producers on a rescale edge):
        // barrier alignment and the watermark valve wait for these.
        const inputs = chain.inputs.map((_, input) =>
          upstreamsIn(plan, chain.index, input, subtask).map((fromSubtask) =>
            ctx.channels.reader({ toChain: chain.index, toSubtask: subtask, input, fromSubtask }),
          ),
        );
        const gate = new InputGate<unknown>(inputs.flat());
        // Which operator input (0 or 1) each gate channel feeds.
        const sides = inputs.flatMap((channels, i) => channels.map(() => head.inputs[i]!.side ?? 0));
        const task = new InputTask({ id, chain: runner, keyed, broadcast, sink, bridge: ctx.bridge, gate, sides, now, taskMetrics });
        wakeTask = () => task.wake();
        into.tasks.push(task);
      }
    }
  }
};
