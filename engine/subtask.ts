/**
 * What every subtask (source or input) shares: its place in the job, its keyed state, its sink,
 * and the checkpoint steps.
 *
 * A snapshot of checkpoint n has a synchronous part, run in the task's own loop between two
 * batches (record source positions, encode broadcast state, seal each keyed store's changes, start the sinks'
 * pre-commits and await those of sinks that do not cut on call), and an asynchronous part, which
 * runs while the task goes on processing and ends with the acknowledgement to the coordinator:
 * each store writes its sealed changes to its backend, then the backend is copied (before any
 * later change reaches it, keyed-store.ts), the copies are fsynced and measured, and the sinks'
 * pre-commits are awaited. The time of the synchronous part (`syncMs`) and the time the asynchronous
 * part held the task's thread (`asyncBlockingMs`) go into the task's snapshot. A task
 * whose inputs have all ended is "finished": it answers later checkpoints at once, with its final
 * state, and stays until the job's final checkpoint is committed.
 */
import { detachedTaskMetrics, type TaskMetrics } from "./task-metrics.ts";
import { join, relative } from "node:path";
import { failpoint } from "../common/failpoints.ts";
import { describeError } from "../common/errors.ts";
import type { BroadcastSnapshot, KeyedSnapshot, SinkSnapshot, SourceSnapshot, TaskSnapshot } from "../checkpoint/metadata.ts";
import type { BroadcastStore } from "../state/broadcast-state.ts";
import type { SinkOperator } from "../operators/sink-operator.ts";
import type { KeyedStateStore } from "../state/keyed-store.ts";
import type { KeyGroupRange } from "../state/key-groups.ts";
import type { KvBackend } from "../state/kv-backend.ts";
import { snapshotBackend, type KnownDigests } from "../state/snapshot.ts";
import type { ChainRunner } from "./chain-runner.ts";

const round2 = (ms: number) => Math.round(ms * 100) / 100;

export interface KeyedSlot {
  readonly operator: string;
  readonly store: KeyedStateStore;
  readonly backend: KvBackend;
  readonly range: KeyGroupRange;
  readonly subtask: number;
  readonly parallelism: number;
  /** Checksums of the files of this slot's previous snapshot, reused for the files the next one shares. */
  previousFiles: KnownDigests;
  /** Directory of this slot's last completed snapshot (files it shares with the next one). */
  previousDir?: string;
}

/** The checkpoint side as a task sees it. */
export interface CheckpointBridge {
  /** Absolute directory of checkpoint `id` (state files go below it). */
  directory(id: number): string;
  /** Root that handle paths are relative to (the job's checkpoint folder). */
  readonly root: string;
  triggeredAt(id: number): number;
  /** Checkpoints triggered and not yet completed or aborted. */
  pendingIds(): readonly number[];
  ack(id: number, snapshot: TaskSnapshot): void;
  decline(id: number, task: string, reason: string): void;
  readonly now: () => number;
}

/** A broadcast process operator's broadcast states in this subtask. */
export interface BroadcastSlot {
  readonly operator: string;
  readonly subtask: number;
  readonly store: BroadcastStore;
}

export interface SubtaskOptions {
  readonly id: string;
  readonly chain: ChainRunner;
  readonly keyed: readonly KeyedSlot[];
  /** Broadcast states of the chain's operators; subtask 0 writes them into each snapshot. */
  readonly broadcast?: readonly BroadcastSlot[];
  readonly sink: SubtaskSink | undefined;
  /** Sinks a source subtask's readers write to (engine/side-sinks.ts); checkpointed like `sink`. */
  readonly sideSinks?: readonly SubtaskSink[];
  readonly bridge: CheckpointBridge;
  /** This subtask's counters (task-metrics.ts); default: counted nowhere. */
  readonly taskMetrics?: TaskMetrics;
}

export interface SubtaskSink {
  readonly operator: string;
  readonly subtask: number;
  readonly op: SinkOperator<unknown>;
}

export abstract class Subtask {
  readonly id: string;
  protected readonly chain: ChainRunner;
  private readonly keyed: readonly KeyedSlot[];
  private readonly broadcast: readonly BroadcastSlot[];
  /** The chain's sink (if any) and the side sinks. */
  private readonly sinks: readonly SubtaskSink[];
  private readonly sideSinks: readonly SubtaskSink[];
  protected readonly bridge: CheckpointBridge;
  private readonly acked = new Set<number>();
  protected finished = false;

  protected readonly taskMetrics: TaskMetrics;

  constructor(options: SubtaskOptions) {
    this.id = options.id;
    this.chain = options.chain;
    this.keyed = options.keyed;
    // Every subtask's copy is the same (state/broadcast-state.ts): subtask 0 writes it.
    this.broadcast = (options.broadcast ?? []).filter((slot) => slot.subtask === 0);
    this.sideSinks = options.sideSinks ?? [];
    this.sinks = [...(options.sink === undefined ? [] : [options.sink]), ...this.sideSinks];
    this.bridge = options.bridge;
    this.taskMetrics = options.taskMetrics ?? detachedTaskMetrics();
  }

  /** Source positions to record with a snapshot (sources override). */
  protected sourcePositions(): SourceSnapshot[] {
    return [];
  }

  /**
   * The synchronous part of checkpoint `id`; returns the asynchronous part, to be started
   * with `finishSnapshot` once the barrier is forwarded.
   */
  protected async snapshotSync(id: number, alignmentMs = 0): Promise<() => Promise<TaskSnapshot>> {
    const started = performance.now();
    this.acked.add(id);
    failpoint("sync-snapshot");
    const sources = this.sourcePositions();
    // Encoded now: the copy at the barrier, before the task processes anything after it.
    const broadcast: BroadcastSnapshot[] = this.broadcast.map((slot) => ({ operator: slot.operator, subtask: slot.subtask, states: slot.store.snapshot() }));
    // Each cut is awaited by the asynchronous part, whose failure declines the checkpoint; a store
    // whose backend write failed refuses the next cut, which fails the task.
    const parts = this.keyed.map((slot) => {
      const dir = join(this.bridge.directory(id), slot.operator, String(slot.subtask));
      const previous = slot.previousDir === undefined ? {} : { previousDir: slot.previousDir };
      const cut = slot.store.snapshot(() => snapshotBackend(slot.backend, dir, previous));
      cut.catch(() => undefined);
      return { slot, dir, cut };
    });
    // A sink whose writer cuts on call pre-commits in the background (its failure declines the
    // checkpoint and breaks the sink, which fails the task); the others are awaited here.
    const sinks: (() => Promise<SinkSnapshot>)[] = [];
    for (const sink of this.sinks) {
      const preCommitted = sink.op.preCommit(id);
      if (sink.op.cutsOnCall) preCommitted.catch(() => undefined);
      else await preCommitted;
      const writerState = sink.op.writerState();
      const snapshot = (): SinkSnapshot => ({
        operator: sink.operator,
        subtask: sink.subtask,
        committables: sink.op.pendingCommittables(id),
        ...(writerState === undefined ? {} : { writerState }),
      });
      const taken = sink.op.cutsOnCall ? undefined : snapshot();
      sinks.push(async () => taken ?? (await preCommitted, snapshot()));
    }
    const syncMs = performance.now() - started;
    return async () => {
      const asyncStarted = performance.now();
      failpoint("async-snapshot");
      const keyed: KeyedSnapshot[] = [];
      let asyncBlockingMs = 0;
      for (const { slot, dir, cut } of parts) {
        const { result: measure, stats } = await cut;
        asyncBlockingMs += stats.blockingMs;
        const m = await measure(slot.previousFiles);
        slot.previousFiles = m.known;
        slot.previousDir = dir;
        keyed.push({
          operator: slot.operator,
          subtask: slot.subtask,
          parallelism: slot.parallelism,
          handle: {
            backend: slot.backend.kind,
            path: relative(this.bridge.root, dir),
            keyGroups: slot.range,
            bytes: m.bytes,
            newBytes: m.newBytes,
            files: m.files,
            contents: m.contents,
          },
          states: slot.store.layout(),
          keyTypes: slot.store.keyTypes,
        });
      }
      const sinkSnapshots: SinkSnapshot[] = [];
      for (const sink of sinks) sinkSnapshots.push(await sink());
      return {
        task: this.id,
        sources,
        keyed,
        sinks: sinkSnapshots,
        ...(broadcast.length === 0 ? {} : { broadcast }),
        durationMs: this.bridge.now() - this.bridge.triggeredAt(id),
        syncMs: round2(syncMs),
        asyncBlockingMs: round2(asyncBlockingMs),
        alignmentMs: round2(alignmentMs),
        asyncMs: round2(performance.now() - asyncStarted),
      };
    };
  }

  /** Runs the asynchronous part in the background and acknowledges (or declines) the checkpoint. */
  protected finishSnapshot(id: number, asyncPart: () => Promise<TaskSnapshot>): void {
    asyncPart().then(
      (snapshot) => {
        this.bridge.ack(id, snapshot);
        failpoint("after-ack");
      },
      (e: unknown) => this.bridge.decline(id, this.id, describeError(e)),
    );
  }

  private finishedSnapshots: Promise<void> = Promise.resolve();

  /** Takes checkpoint `id` now, with the task's final state (the task is finished); one at a time. */
  protected snapshotFinished(id: number): Promise<void> {
    this.finishedSnapshots = this.finishedSnapshots.then(async () => {
      if (this.acked.has(id)) return;
      this.finishSnapshot(id, await this.snapshotSync(id));
    });
    return this.finishedSnapshots;
  }

  /** After the task finished: answers the checkpoints in flight that no barrier brought. */
  protected async markFinished(): Promise<void> {
    this.finished = true;
    this.taskMetrics.finished = true;
    for (const id of this.bridge.pendingIds()) await this.snapshotFinished(id);
  }

  /** The driver triggered `id` (`stop`: sources stop at it). Running tasks get it by barrier (sources override). */
  onTrigger(id: number, _stop = false): Promise<void> {
    return this.finished ? this.snapshotFinished(id) : Promise.resolve();
  }

  /** Checkpoint `id` completed: commit the sinks' transactions up to it. */
  async notifyComplete(id: number): Promise<void> {
    for (const sink of this.sinks) await sink.op.commitUpTo(id);
  }

  /** Closes the side sinks' writers (the chain closes its own sink); at teardown. */
  async closeSideSinks(): Promise<void> {
    for (const sink of this.sideSinks) await Promise.resolve(sink.op.close?.()).catch(() => undefined);
  }

  abstract run(): Promise<void>;

  /** Releases what the task holds outside its chain (e.g. source readers); idempotent. */
  release(): Promise<void> {
    return Promise.resolve();
  }
}
