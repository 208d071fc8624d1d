/**
 * Runs a planned job in this process: every subtask is an async loop, connected by bounded
 * channels, with a checkpoint driver taking periodic checkpoints. `runOnce` is sink recovery
 * (sink-startup.ts), subtask creation (subtask-factory.ts: here, or in worker threads through
 * worker/worker-pool.ts) and supervision (the driver, the first failure, teardown).
 *
 * Bounded jobs: when every source is exhausted, a final checkpoint is taken; once it is
 * committed the run resolves (`finished`). A stop request (SIGINT/SIGTERM) takes a checkpoint at
 * which the sources stop; once it is committed the run resolves (`stopped`). The first failure
 * stops the sources, closes every resource and rejects; the caller may restart from the latest
 * checkpoint.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SinkClaim } from "../connectors/sink.ts";
import type { Source, SourceContext } from "../connectors/source.ts";
import { CheckpointDriver, type CompletedCheckpoint } from "../checkpoint/driver.ts";
import { defaultCoordinatorConfig, type CoordinatorConfig } from "../checkpoint/coordinator.ts";
import { systemClock, type Clock } from "../common/clock.ts";
import { highestCompleted } from "../checkpoint/completed-record.ts";
import { RestoreFallback, fallBackIfDiscarded, withRestoreFallback } from "./restore-fallback.ts";
import { WeirError, isWeirError, describeError, externalError, internalError } from "../common/errors.ts";
import { Channel } from "./channel.ts";
import { newJobMetrics, type JobMetrics } from "./metrics.ts";
import type { JobPlan } from "./plan.ts";
import { checkOperatorsMatch, unknownOperators, withoutOperators, type RestorePlan } from "./restore-plan.ts";
import { claimRunFolder } from "./run-folder.ts";
import { checkStateCompatibility, declaredStates } from "./state-compatibility.ts";
import { startSinks } from "./sink-startup.ts";
import type { CheckpointBridge } from "./subtask.ts";
import { sideSinksOf } from "./side-sinks.ts";
import { createSubtasks, type ChannelAddress, type ChannelEnds, type CreatedSubtasks, type SubtaskFactoryContext, type SubtaskSettings } from "./subtask-factory.ts";
import { spawnWorkers, startWorkerPool, type WorkerJobSource, type WorkerPool } from "./worker/worker-pool.ts";
import { slotCount } from "./worker/placement.ts";

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
  /**
   * Run the subtasks on `count` worker threads (engine/worker/); each loads `job` itself to build the
   * same plan. Absent: every subtask on this thread's event loop (`--workers 0`).
   */
  readonly workers?: { readonly count: number; readonly job: WorkerJobSource };
  /** Drop the restored state of operators the job no longer has, instead of refusing (Flink's --allowNonRestoredState). */
  readonly allowNonRestoredState?: boolean;
  /** Aborting it stops the job with a checkpoint. */
  readonly stopSignal?: AbortSignal;
  /**
   * Aborting it cancels the job: torn down at once without a checkpoint (uncommitted output is
   * discarded by the next run's recovery), and the run rejects with JOB_CANCELLED (not retriable).
   */
  readonly cancelSignal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** Called after each checkpoint completes (metadata written). */
  readonly onCheckpoint?: (checkpoint: CompletedCheckpoint) => void;
  /** Called once the checkpoint driver runs, with a way to ask it for a checkpoint now (savepoints). */
  readonly onCheckpointing?: (control: CheckpointControl) => void;
  /** Called when a checkpoint is triggered, and when one is aborted. */
  readonly onCheckpointTriggered?: (id: number, timestamp: number) => void;
  readonly onCheckpointAborted?: (id: number, reason: string, at: number) => void;
  /** What to do about committed output that does not match the starting state (output-rewind.ts); default refuse both. */
  readonly output?: {
    readonly duplicateOutput?: "refuse" | "allow";
    readonly existingOutput?: "refuse" | "overwrite";
    /** Set by a recovery fallback: these sinks provably hold no output of checkpoints after `checkpoint`. */
    readonly nothingVisibleAfter?: { readonly checkpoint: number; readonly operators: readonly string[] };
  };
}

/** What a run's caller may ask of its checkpointing while it runs (savepoints: engine/cli/savepoint-requests.ts). */
export interface CheckpointControl {
  /** A checkpoint as soon as one may start. */
  requestCheckpoint(): void;
  /** Keeps completed checkpoint `id` from retention until released (call from `onCheckpoint`). */
  hold(id: number): () => void;
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

/** In-thread channels for every edge of the plan, made on first use. */
const inThreadChannels = (capacity: number): ChannelEnds => {
  const channels = new Map<string, Channel<unknown>>();
  const at = (a: ChannelAddress) => {
    const key = `${a.toChain}/${a.toSubtask}/${a.input}/${a.fromSubtask}`;
    let channel = channels.get(key);
    if (channel === undefined) channels.set(key, (channel = new Channel<unknown>(capacity)));
    return channel;
  };
  return { writer: at, reader: at };
};

export { assignSplits } from "./split-assignment.ts";

/** Why a cancelled run rejects: not retriable, so the restart strategy does not run it again. */
export const cancelledError = (job: string) =>
  new WeirError(`job '${job}' was cancelled`, { code: "JOB_CANCELLED", domain: "user", retriable: false });

/**
 * Runs the job (see `runOnce`). When recovery finds that the broker discarded every transaction of
 * the restored checkpoint n (recovery-decision.ts), it says so in one line and restores n-1.
 */
export const runJob = (options: RunOptions): Promise<JobResult> => withRestoreFallback(options, runOnce);

const runOnce = async (options: RunOptions): Promise<JobResult> => {
  const { plan } = options;
  const job = plan.job;
  if (options.workers !== undefined && options.clock !== undefined) {
    throw internalError("WORKERS_WITH_CLOCK", "worker threads run on the system clock; a run with an injected clock uses --workers 0");
  }
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const log = options.log ?? (() => undefined);
  const runId = options.runId ?? now().toString(36);
  const metrics = newJobMetrics(now());
  const stateKind = options.stateBackend ?? "rocksdb";
  const batchSize = options.batchSize ?? 1024;
  let restore = options.checkpoints?.restore;
  if (restore !== undefined) {
    const operatorNames = new Set([...job.nodes.map((n) => n.name), ...sideSinksOf(job.nodes).map((s) => s.operator)]);
    const gone = unknownOperators(restore, operatorNames);
    if (gone.length > 0 && options.allowNonRestoredState === true) {
      restore = { ...withoutOperators(restore, gone), maxParallelism: restore.maxParallelism };
      log(`checkpoint ${restore.id} holds state of operators this job no longer has; dropped (--allow-non-restored-state): ${gone.join(", ")}`);
    }
    checkOperatorsMatch(restore, operatorNames, job.maxParallelism, restore.maxParallelism);
    checkStateCompatibility(restore, declaredStates(job));
  }
  // Before anything that the teardown below undoes: a refused folder is another run's.
  const stateDir = await claimRunFolder({ job: job.name, runId, log, ...(options.stateDir === undefined ? {} : { dir: options.stateDir }) });
  const onPhase = options.onPhase ?? (() => undefined);
  onPhase({ kind: "run-folder-claimed" });
  const ownRoot = options.checkpoints?.root === undefined;
  const root = options.checkpoints?.root ?? (await mkdtemp(join(tmpdir(), "weir-checkpoints-")));

  const created: CreatedSubtasks = { tasks: [], runners: [], backends: [] };
  let pool: WorkerPool | undefined;
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
    beforeCommit: async (id, tasks) => {
      for (const { claim, operator } of claims) {
        if (claim.beforeCommit === undefined) continue;
        const committables = tasks.flatMap((t) => t.sinks.filter((s) => s.operator === operator).flatMap((s) => s.committables));
        await claim.beforeCommit(id, committables);
      }
    },
    ...(options.onCheckpointTriggered === undefined ? {} : { onTriggered: options.onCheckpointTriggered }),
    ...(options.onCheckpointAborted === undefined ? {} : { onAborted: options.onCheckpointAborted }),
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
  const sourceContext: SourceContext = { now, jobName: job.name, runId };
  const splitsOf = (name: string) => {
    let splits = splitCache.get(name);
    if (splits === undefined) {
      const node = job.nodes.find((n) => n.name === name);
      if (node?.spec.kind !== "source") throw internalError("NOT_A_SOURCE", `operator '${name}' is not a source`);
      const source = node.spec.source as Source<unknown, unknown>;
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

  let sourcesRunning = plan.chains.reduce((n, chain) => n + (chain.nodes[0]!.spec.kind === "source" ? chain.parallelism : 0), 0);
  const sourceFinished = () => {
    if (--sourcesRunning === 0) driver.requestFinal();
  };
  const workers = options.workers;

  const claims: { readonly claim: SinkClaim; readonly operator: string }[] = [];
  // Worker threads boot (loader, engine, job module) while the sinks recover below.
  const spawned = workers === undefined ? undefined : spawnWorkers(Math.max(1, Math.min(workers.count, slotCount(plan))), workers.job);
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
      onClaimed: (claim, operator) => claims.push({ claim, operator }),
      onRecovered: (reports) => fallBackIfDiscarded({ root, job: job.name, restore, reports }),
    });
    onPhase({ kind: "sinks-started" });
    const settings: SubtaskSettings = {
      runId,
      stateKind,
      stateDir,
      restore,
      batchSize,
      maxCachedCells: options.maxCachedCells,
      checkpointIntervalMs: coordinatorConfig.intervalMs,
    };
    let failed: Promise<never>;
    if (workers === undefined) {
      const ctx: SubtaskFactoryContext = {
        ...settings,
        plan,
        clock,
        log,
        onPhase,
        metrics,
        bridge,
        channels: inThreadChannels(options.channelCapacity ?? 4),
        splitsOf,
        cancelled,
        sourceFinished,
      };
      const maxParallelism = Math.max(...plan.chains.map((c) => c.parallelism));
      await createSubtasks(ctx, Array.from({ length: maxParallelism }, (_, i) => i), created);
      driver.start(created.tasks);
      failed = new Promise<never>((_, reject) => {
        for (const task of created.tasks) {
          task.run().catch((e: unknown) => {
            failure ??= e;
            reject(e);
          });
        }
      });
    } else {
      const splits: Record<string, readonly string[]> = {};
      for (const chain of plan.chains) {
        const head = chain.nodes[0]!;
        if (head.spec.kind === "source") splits[head.name] = await splitsOf(head.name);
      }
      pool = await startWorkerPool({
        spawned: spawned!,
        plan,
        job: workers.job,
        init: {
          ...settings,
          channelCapacity: options.channelCapacity ?? 4,
          checkpointRoot: root,
          splits,
        },
        driver,
        metrics,
        log,
        onPhase,
        sourceFinished,
      });
      driver.start(pool.tasks);
      failed = pool.run().then(
        () => new Promise<never>(() => undefined),
        (e: unknown) => {
          failure ??= e;
          throw e;
        },
      );
    }
    options.onCheckpointing?.({ requestCheckpoint: () => driver.requestCheckpoint(), hold: (id) => driver.hold(id) });
    const onStop = () => driver.requestStop();
    options.stopSignal?.addEventListener("abort", onStop, { once: true });
    if (options.stopSignal?.aborted) onStop();
    const cancel = options.cancelSignal;
    let onCancel = () => undefined as void;
    const cancelledByUser = new Promise<never>((_, reject) => {
      onCancel = () => reject(cancelledError(job.name));
      if (cancel?.aborted) onCancel();
      else cancel?.addEventListener("abort", onCancel, { once: true });
    });
    options.onStart?.(metrics);
    const outcome = await Promise.race([driver.done, failed, cancelledByUser]).finally(() => {
      cancel?.removeEventListener("abort", onCancel);
      options.stopSignal?.removeEventListener("abort", onStop);
    });
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
    if (pool !== undefined) await pool.close();
    else await spawned?.terminate();
    for (const task of created.tasks) await task.release();
    for (const task of created.tasks) await task.closeSideSinks();
    for (const runner of created.runners) await runner.close();
    for (const backend of created.backends) await backend.close().catch(() => undefined);
    for (const { claim } of claims) await claim.release().catch(() => undefined);
    // A working directory that cannot be removed must not hide how the job ended.
    // (ENOTDIR: it could never be created, so there is nothing to remove.)
    await rm(stateDir, { recursive: true, force: true }).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== "ENOTDIR") log(`could not remove the state directory ${stateDir}: ${describeError(e)}`);
    });
    if (ownRoot) await rm(root, { recursive: true, force: true });
  }
};
