/**
 * Runs a planned job in this process: every subtask is an async loop on the event loop,
 * connected by bounded channels, with a checkpoint driver taking periodic checkpoints.
 *
 * Bounded jobs: when every source is exhausted, a final checkpoint is taken; once it is
 * committed the run resolves (`finished`). A stop request (SIGINT/SIGTERM) takes a checkpoint at
 * which the sources stop; once it is committed the run resolves (`stopped`). The first failure
 * stops the sources, closes every resource and rejects; the caller may restart from the latest
 * checkpoint.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sink } from "../connectors/sink.ts";
import type { Source, SourceContext } from "../connectors/source.ts";
import type { Operator } from "../operators/operator.ts";
import { sinkOperator, type SinkOperator } from "../operators/sink-operator.ts";
import { openHeapBackend } from "../state/heap-backend.ts";
import { KeyedStateStore } from "../state/keyed-store.ts";
import type { KvBackend } from "../state/kv-backend.ts";
import { keyGroupRangeFor } from "../state/key-groups.ts";
import { openRocksBackend } from "../state/rocksdb-backend.ts";
import { digestsOf, restoreBackend, type KnownDigests, type StateFile } from "../state/snapshot.ts";
import { CheckpointDriver, type CompletedCheckpoint } from "../checkpoint/driver.ts";
import { defaultCoordinatorConfig, type CoordinatorConfig } from "../checkpoint/coordinator.ts";
import { systemClock, type Clock } from "../common/clock.ts";
import { failpoint } from "../common/failpoints.ts";
import { highestCompleted } from "../checkpoint/completed-record.ts";
import { RestoreFallback, fallBackIfDiscarded, withRestoreFallback } from "./restore-fallback.ts";
import { isWeirError, describeError, externalError, internalError, userError } from "../common/errors.ts";
import { makeDirectory, pathError } from "../common/path-errors.ts";
import { ChainRunner } from "./chain-runner.ts";
import { Channel } from "./channel.ts";
import { InputGate } from "./input-gate.ts";
import { InputTask } from "./input-task.ts";
import { newJobMetrics, type JobMetrics } from "./metrics.ts";
import { Output, type OutputTarget } from "./output.ts";
import type { ChainPlan, JobPlan } from "./plan.ts";
import { checkOperatorsMatch, keyedSourcesFor, type RestorePlan } from "./restore-plan.ts";
import { claimRunFolder } from "./run-folder.ts";
import { checkStateCompatibility, declaredStates } from "./state-compatibility.ts";
import { startSinks } from "./sink-startup.ts";
import { SourceTask } from "./source-task.ts";
import { assignSplits, startPositions, unlistedSplits } from "./split-assignment.ts";
import { timerWithoutWatermarks } from "./watermark-check.ts";
import type { CheckpointBridge, KeyedSlot, Subtask, SubtaskSink } from "./subtask.ts";
import { sideSinkOf, sideSinksOf } from "./side-sinks.ts";

export type StateBackendKind = "rocksdb" | "heap";

export interface CheckpointOptions {
  /** Checkpoint storage root (`<root>/<job>/chk-<n>`); default: a temporary directory removed at the end. */
  readonly root?: string;
  readonly config?: Partial<CoordinatorConfig>;
  /** Resume from this checkpoint. */
  readonly restore?: RestorePlan & { readonly maxParallelism: number };
  /** The first checkpoint id (above every id already on disk). */
  readonly firstId?: number;
  /** Completed checkpoints already on disk, oldest first (retention counts them). */
  readonly retained?: readonly number[];
  /** The job's parameters, recorded in each checkpoint's metadata. */
  readonly params?: Readonly<Record<string, string>>;
  /**
   * Start a new lineage (`--fresh`, without `restore`): the job's checkpoints and its
   * highest-completed record are deleted once the output checks have passed, so a refused run
   * leaves them as they were (engine/output-rewind.ts).
   */
  readonly fresh?: boolean;
}

export interface RunOptions {
  readonly plan: JobPlan;
  readonly stateBackend?: StateBackendKind;
  /**
   * Where RocksDB keeps working state for this run (default `.weir/<job>/state/<runId>`, where
   * folders of ended runs are removed at start). Removed when the run ends; see run-folder.ts.
   */
  readonly stateDir?: string;
  readonly batchSize?: number;
  /** Batches a channel holds before its producer waits (default 4). */
  readonly channelCapacity?: number;
  /** Injected clock: processing time and the checkpoint timer (default: the system clock). */
  readonly clock?: Clock;
  readonly runId?: string;
  /** Called once the job is wired, with its live metrics (for progress reporting). */
  readonly onStart?: (metrics: JobMetrics) => void;
  /** Called as the run starts up, before `onStart` (to time restarts: WEIR_TIMELINE_FILE). */
  readonly onPhase?: (phase: RunPhase) => void;
  /** Cached state cells per keyed operator subtask before write-behind flushes (default 200k). */
  readonly maxCachedCells?: number;
  readonly checkpoints?: CheckpointOptions;
  /** Aborting it stops the job with a checkpoint. */
  readonly stopSignal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** Called after each checkpoint completes (metadata written). */
  readonly onCheckpoint?: (checkpoint: CompletedCheckpoint) => void;
  /** What to do about committed output that does not match the starting state (output-rewind.ts); default refuse both. */
  readonly output?: {
    readonly duplicateOutput?: "refuse" | "allow";
    readonly existingOutput?: "refuse" | "overwrite";
    /** Set by a recovery fallback: these sinks provably hold no output of checkpoints after `checkpoint`. */
    readonly nothingVisibleAfter?: { readonly checkpoint: number; readonly operators: readonly string[] };
  };
}

/** Start-up steps of a run; a restoring subtask reports how many snapshots it reads (1 at the same parallelism). */
export type RunPhase =
  | { readonly kind: "run-folder-claimed" }
  | { readonly kind: "sinks-started" }
  | { readonly kind: "state-restoring" | "state-restored"; readonly operator: string; readonly subtask: number; readonly sources: number };

export interface JobResult {
  readonly metrics: JobMetrics;
  readonly outcome: "finished" | "stopped";
  readonly lastCheckpoint: CompletedCheckpoint | undefined;
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

/** A callback that logs `warning: <line>` the first time any subtask of `operator` calls it; undefined without a line. */
const warnOnce = (warned: Set<string>, operator: string, line: string | undefined, log: (line: string) => void): (() => void) | undefined =>
  line === undefined
    ? undefined
    : () => {
        if (warned.has(operator)) return;
        warned.add(operator);
        log(`warning: ${line}`);
      };

export { assignSplits } from "./split-assignment.ts";

/**
 * Runs the job (see `runOnce`). When recovery finds that the broker discarded every transaction of
 * the restored checkpoint n (recovery-decision.ts), it says so in one line and restores n-1.
 */
export const runJob = (options: RunOptions): Promise<JobResult> => withRestoreFallback(options, runOnce);

const runOnce = async (options: RunOptions): Promise<JobResult> => {
  const { plan } = options;
  const job = plan.job;
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const log = options.log ?? (() => undefined);
  const runId = options.runId ?? now().toString(36);
  const metrics = newJobMetrics(now());
  const stateKind = options.stateBackend ?? "rocksdb";
  const batchSize = options.batchSize ?? 1024;
  const grid = makeChannels(plan, options.channelCapacity ?? 4);
  const sourceContext: SourceContext = { now, jobName: job.name, runId };
  const restore = options.checkpoints?.restore;
  if (restore !== undefined) {
    const operatorNames = [...job.nodes.map((n) => n.name), ...sideSinksOf(job.nodes).map((s) => s.operator)];
    checkOperatorsMatch(restore, new Set(operatorNames), job.maxParallelism, restore.maxParallelism);
    checkStateCompatibility(restore, declaredStates(job));
  }
  // Before anything that the teardown below undoes: a refused folder is another run's.
  const stateDir = await claimRunFolder({ job: job.name, runId, log, ...(options.stateDir === undefined ? {} : { dir: options.stateDir }) });
  const onPhase = options.onPhase ?? (() => undefined);
  onPhase({ kind: "run-folder-claimed" });
  const ownRoot = options.checkpoints?.root === undefined;
  const root = options.checkpoints?.root ?? (await mkdtemp(join(tmpdir(), "weir-checkpoints-")));

  const backends: KvBackend[] = [];
  const runners: ChainRunner[] = [];
  const tasks: Subtask[] = [];
  let failure: unknown;
  let tornDown = false;
  const cancelled = () => failure !== undefined || tornDown;
  let lastCheckpoint: CompletedCheckpoint | undefined;

  const coordinatorConfig: CoordinatorConfig = { ...defaultCoordinatorConfig, ...options.checkpoints?.config };
  // New checkpoint ids stay above every id that ever completed, even of deleted checkpoints.
  const fresh = options.checkpoints?.fresh === true && restore === undefined;
  const completedBefore = fresh ? 0 : await highestCompleted(root, job.name);
  const driver = new CheckpointDriver({
    job: job.name,
    root,
    maxParallelism: job.maxParallelism,
    ...(options.checkpoints?.params === undefined ? {} : { params: options.checkpoints.params }),
    config: coordinatorConfig,
    firstId: Math.max(options.checkpoints?.firstId ?? (restore === undefined ? 1 : restore.id + 1), completedBefore + 1),
    retained: options.checkpoints?.retained ?? [],
    clock,
    log,
    onCompleted: (c) => {
      lastCheckpoint = c;
      metrics.lastCheckpoint = c;
      metrics.checkpointsCompleted++;
      options.onCheckpoint?.(c);
    },
  });
  const bridge: CheckpointBridge = {
    directory: (id) => driver.directory(id),
    root: driver.root,
    triggeredAt: (id) => driver.triggeredAtOf(id),
    pendingIds: () => driver.pendingIds(),
    ack: (id, snapshot) => driver.ack(id, snapshot),
    decline: (id, task, reason) => driver.decline(id, task, reason),
    now,
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

  const openKeyedBackend = async (operator: string, subtask: number, parallelism: number): Promise<KvBackend> => {
    const workDir = join(stateDir, operator, String(subtask));
    if (restore !== undefined) {
      failpoint("restore");
      const range = keyGroupRangeFor(subtask, parallelism, job.maxParallelism);
      const sources = keyedSourcesFor(restore, operator, range);
      if (sources.length > 0) {
        const phase = { operator, subtask, sources: sources.length };
        onPhase({ kind: "state-restoring", ...phase });
        await mkdir(join(stateDir, operator), { recursive: true });
        const backend = await restoreBackend({ kind: stateKind, range, sources, workDir });
        onPhase({ kind: "state-restored", ...phase });
        return backend;
      }
    }
    if (stateKind === "heap") return openHeapBackend();
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

  let sourcesRunning = 0;
  const sourceFinished = () => {
    if (--sourcesRunning === 0) driver.requestFinal();
  };

  const claims: { release(): Promise<void> }[] = [];
  try {
    // Sinks first (sink-startup.ts): claims, output rewind, recovery of transactions, the runs log.
    await startSinks({
      plan,
      root,
      runId,
      restore,
      highestCompleted: completedBefore,
      fresh,
      duplicateOutput: options.output?.duplicateOutput ?? "refuse",
      ...(options.output?.nothingVisibleAfter === undefined ? {} : { nothingVisibleAfter: options.output.nothingVisibleAfter }),
      existingOutput: options.output?.existingOutput ?? "refuse",
      now,
      log,
      onClaimed: (claim) => claims.push(claim),
      onRecovered: (reports) => fallBackIfDiscarded({ root, job: job.name, restore, reports }),
    });
    onPhase({ kind: "sinks-started" });
    const timerWarning = timerWithoutWatermarks(job);
    const warned = new Set<string>();
    for (const chain of plan.chains) {
      for (let subtask = 0; subtask < chain.parallelism; subtask++) {
        const operators: Operator<unknown, unknown>[] = [];
        const keyed: KeyedSlot[] = [];
        let sink: { operator: string; subtask: number; op: SinkOperator<unknown> } | undefined;
        const head = chain.nodes[0]!;
        for (const node of chain.nodes) {
          const spec = node.spec;
          if (spec.kind === "source") continue;
          if (spec.kind === "sink") {
            const writerContext = {
              jobName: job.name,
              operatorName: node.name,
              subtask,
              parallelism: chain.parallelism,
              runId,
              checkpointIntervalMs: coordinatorConfig.intervalMs,
            };
            // A sink that cannot start (e.g. its output directory cannot be created) names its operator.
            const writer = await Promise.resolve()
              .then(() => (spec.sink as Sink<unknown>).createWriter(writerContext))
              .catch((e: unknown) => {
                throw isWeirError(e) ? e.withContext({ operator: node.name }) : e;
              });
            const op = sinkOperator(node.name, writer, { clock });
            sink = { operator: node.name, subtask, op };
            operators.push(op);
            continue;
          }
          let keyedStore: KeyedStateStore | undefined;
          if (spec.keyed) {
            const backend = await openKeyedBackend(node.name, subtask, chain.parallelism);
            backends.push(backend);
            const layout = restore?.layouts.get(node.name);
            keyedStore = new KeyedStateStore({
              backend,
              maxCachedCells: options.maxCachedCells,
              operator: node.name,
              counters: metrics.stateCache,
              ...(layout === undefined ? {} : { layout }),
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
          operators.push(
            spec.create({
              jobName: job.name,
              operatorName: node.name,
              subtask,
              parallelism: chain.parallelism,
              maxParallelism: job.maxParallelism,
              keyedStore,
              now,
              eventTimeWithoutWatermarks: warnOnce(warned, node.name, timerWarning(node), log),
            }),
          );
        }
        const runner = new ChainRunner({ operators, sink: sink?.op, output: outputFor(plan, grid, chain, subtask), metrics });
        runners.push(runner);
        const id = `${chain.index}-${subtask}`;
        if (head.spec.kind === "source") {
          const source = head.spec.source;
          const allSplits = await sourceSplits(head.name, source);
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
            const writer = await side.sink.createWriter({
              jobName: job.name,
              operatorName: side.operator,
              subtask,
              parallelism: chain.parallelism,
              runId,
              checkpointIntervalMs: coordinatorConfig.intervalMs,
            });
            sideSinks.push({ operator: side.operator, subtask, op: sinkOperator(side.operator, writer, { clock }) });
          }
          const sideOutput = sideSinks[0]?.op;
          metrics.sourceSubtasks++;
          sourcesRunning++;
          tasks.push(
            new SourceTask({
              id,
              chain: runner,
              keyed,
              sink,
              sideSinks,
              bridge,
              source,
              sourceName: head.name,
              splits,
              knownSplits: allSplits,
              subtask,
              parallelism: chain.parallelism,
              positions: startPositions(source, splits, restore?.positions.get(head.name)),
              watermarks: head.spec.watermarks,
              restoredWatermarks: restore?.watermarks.get(head.name) ?? {},
              batchSize,
              context: sideOutput === undefined ? sourceContext : { ...sourceContext, sideOutput: { write: (records) => sideOutput.processBatch(records, []) } },
              metrics,
              cancelled,
              onFinished: sourceFinished,
            }),
          );
        } else {
          const inputs = grid[chain.index]![subtask]!;
          const gate = new InputGate<unknown>(inputs.flat());
          // Which operator input (0 or 1) each gate channel feeds.
          const sides = inputs.flatMap((channels, i) => channels.map(() => head.inputs[i]!.side ?? 0));
          tasks.push(new InputTask({ id, chain: runner, keyed, sink, bridge, gate, sides, now }));
        }
      }
    }
    driver.start(tasks);
    const onStop = () => driver.requestStop();
    options.stopSignal?.addEventListener("abort", onStop, { once: true });
    if (options.stopSignal?.aborted) onStop();
    options.onStart?.(metrics);
    const failed = new Promise<never>((_, reject) => {
      for (const task of tasks) {
        task.run().catch((e: unknown) => {
          failure ??= e;
          reject(e);
        });
      }
    });
    const outcome = await Promise.race([driver.done, failed]);
    options.stopSignal?.removeEventListener("abort", onStop);
    return { metrics, outcome: outcome.kind, lastCheckpoint };
  } catch (e) {
    if (e instanceof RestoreFallback) throw e; // nothing ran yet: runJob restores the earlier checkpoint
    failure ??= e;
    throw isWeirError(failure)
      ? failure
      : internalError("JOB_FAILED", `unexpected error: ${describeError(failure)}`, { cause: failure });
  } finally {
    tornDown = true;
    driver.close();
    for (const task of tasks) await task.release();
    for (const task of tasks) await task.closeSideSinks();
    for (const runner of runners) await runner.close();
    for (const backend of backends) await backend.close().catch(() => undefined);
    for (const claim of claims) await claim.release().catch(() => undefined);
    // A working directory that cannot be removed must not hide how the job ended.
    // (ENOTDIR: it could never be created, so there is nothing to remove.)
    await rm(stateDir, { recursive: true, force: true }).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== "ENOTDIR") log(`could not remove the state directory ${stateDir}: ${describeError(e)}`);
    });
    if (ownRoot) await rm(root, { recursive: true, force: true });
  }
};
