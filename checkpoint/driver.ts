/**
 * The checkpoint driver: the coordinator's hands. It ticks the coordinator on its injected
 * clock, tells tasks to take checkpoints, writes metadata, tells tasks a checkpoint completed
 * (sinks commit then), and deletes aborted and expired checkpoints. Every decision, including
 * when a stop or final checkpoint ends the job, is the coordinator's; commands run one at a
 * time, in order.
 *
 * Completion order (DESIGN §4.5, §5): all acks -> `_metadata` written atomically -> the job's
 * highest-completed record updated -> checkpoint complete -> every task commits its sink
 * transactions. The job's `done` promise resolves after the final checkpoint (or a stop
 * checkpoint) is complete and committed everywhere, and rejects if a command fails (I/O error, a
 * task's commit failing) or the coordinator fails the job.
 */
import { mkdir } from "node:fs/promises";
import type { Clock, Timer } from "../common/clock.ts";
import { failpoint } from "../common/failpoints.ts";
import { describeError, externalError, isWeirError, WeirError } from "../common/errors.ts";
import { CheckpointCoordinator, type CoordinatorCommand, type CoordinatorConfig, type CoordinatorEvent, type JobEnd } from "./coordinator.ts";
import { METADATA_FORMAT, summarize, type CheckpointMetadata, type TaskSnapshot } from "./metadata.ts";
import { checkpointPath, discardCheckpoint, jobRoot, writeMetadata } from "./storage.ts";
import { recordCompleted } from "./completed-record.ts";

export interface DriverTask {
  readonly id: string;
  onTrigger(id: number, stop: boolean): Promise<void>;
  notifyComplete(id: number): Promise<void>;
  /** Checkpoint `id` was aborted (a task on another thread forgets it; optional). */
  onAbort?(id: number): void;
}

export interface CompletedCheckpoint {
  readonly id: number;
  readonly durationMs: number;
  readonly bytes: number;
  readonly newBytes: number;
  readonly final: boolean;
  /** When it was triggered and when its metadata was written (clock ms). */
  readonly triggeredAt: number;
  readonly completedAt: number;
  /** Bytes of keyed state per operator (summed over its subtasks). */
  readonly stateBytes: Readonly<Record<string, number>>;
  /** Per task: its synchronous part and the time its asynchronous part held its thread (metadata.ts). */
  readonly tasks: readonly TaskCheckpointTimes[];
}

export interface TaskCheckpointTimes {
  readonly task: string;
  readonly durationMs: number;
  readonly syncMs: number;
  readonly asyncBlockingMs: number;
  readonly alignmentMs: number;
  /** The asynchronous part, start to end (0 in older checkpoints). */
  readonly asyncMs: number;
  /** Bytes of state this task's snapshot holds, and the part of them new in this checkpoint. */
  readonly bytes: number;
  readonly newBytes: number;
}

export interface DriverOptions {
  readonly job: string;
  readonly root: string;
  readonly maxParallelism: number;
  /** Recorded in every checkpoint's metadata. */
  readonly params?: Readonly<Record<string, string>>;
  readonly config: CoordinatorConfig;
  readonly firstId: number;
  readonly retained: readonly number[];
  /** Time for events and the tick timer (the coordinator's manual clock in tests). */
  readonly clock: Clock;
  readonly log: (line: string) => void;
  readonly onCompleted?: (checkpoint: CompletedCheckpoint) => void;
  /** Called when checkpoint `id` is triggered (`timestamp`: its trigger time). */
  readonly onTriggered?: (id: number, timestamp: number) => void;
  /** Called when checkpoint `id` is aborted (it expired, or a task declined it). */
  readonly onAborted?: (id: number, reason: string, at: number) => void;
  /** Before the tasks commit a completed checkpoint (sink claims' checks); a rejection fails the job, nothing committed. */
  readonly beforeCommit?: (id: number, tasks: readonly TaskSnapshot[]) => Promise<void>;
}

export interface DriverOutcome {
  readonly kind: JobEnd;
  /** The checkpoint that ended the job. */
  readonly id: number;
}

export class CheckpointDriver {
  private readonly options: DriverOptions;
  private tasks: readonly DriverTask[] = [];
  private coordinator: CheckpointCoordinator | undefined;
  private timer: Timer | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly triggeredAt = new Map<number, number>();
  /** Ids of aborted checkpoints (a late ack's files are discarded again). */
  private readonly aborted = new Set<number>();
  /** The task snapshots of checkpoints written and not yet committed (for `beforeCommit`). */
  private readonly completedTasks = new Map<number, readonly TaskSnapshot[]>();
  private closed = false;
  private resolveDone!: (outcome: DriverOutcome) => void;
  private rejectDone!: (error: WeirError) => void;
  /** Settles when the job may end: final or stop checkpoint committed, or the job must fail. */
  readonly done: Promise<DriverOutcome>;

  constructor(options: DriverOptions) {
    this.options = options;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
  }

  get root(): string {
    return jobRoot(this.options.root, this.options.job);
  }

  directory(id: number): string {
    return checkpointPath(this.options.root, this.options.job, id);
  }

  triggeredAtOf(id: number): number {
    return this.triggeredAt.get(id) ?? this.options.clock.now();
  }

  pendingIds(): readonly number[] {
    return this.coordinator?.pendingIds ?? [];
  }

  /** Registers the tasks (all of them must ack every checkpoint) and starts the timer. */
  start(tasks: readonly DriverTask[]): void {
    this.tasks = tasks;
    const { config, clock } = this.options;
    this.coordinator = new CheckpointCoordinator({
      config,
      tasks: tasks.map((t) => t.id),
      firstId: this.options.firstId,
      now: clock.now(),
      retained: this.options.retained,
    });
    this.timer = clock.setInterval(() => this.event({ kind: "tick", now: clock.now() }), tickMillis(config));
  }

  /** Every source is exhausted: take the final checkpoint. */
  requestFinal(): void {
    this.event({ kind: "request", now: this.options.clock.now(), final: true });
  }

  /** Stop with a checkpoint (SIGINT/SIGTERM): sources stop at its barrier; `done` resolves once it is committed. */
  /** Holds on completed checkpoints (by id) that retention must not delete yet. */
  private readonly held = new Map<number, number>();
  /** Held checkpoints retention wanted to delete: deleted when released. */
  private readonly deferred = new Set<number>();

  /**
   * Keeps completed checkpoint `id` from being deleted by retention until the returned function is
   * called (once). Call it when the checkpoint completes (`onCompleted`), before any later one can.
   */
  hold(id: number): () => void {
    this.held.set(id, (this.held.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(id) ?? 1) - 1;
      if (left > 0) {
        this.held.set(id, left);
        return;
      }
      this.held.delete(id);
      if (this.deferred.delete(id)) {
        discardCheckpoint(this.options.root, this.options.job, id).catch((e: unknown) =>
          this.options.log(`could not remove checkpoint ${id} after its savepoint: ${describeError(e)}`),
        );
      }
    };
  }

  /** Asks for a checkpoint as soon as one may start (a savepoint's); one in progress does not count. */
  requestCheckpoint(): void {
    this.event({ kind: "request", now: this.options.clock.now(), final: false });
  }

  requestStop(): void {
    this.event({ kind: "stop", now: this.options.clock.now() });
  }

  ack(id: number, snapshot: TaskSnapshot): void {
    // A task on another thread may learn of an abort late and snapshot into the discarded
    // directory: discard it again, so no orphan stays on disk.
    if (this.aborted.has(id) && !this.closed) {
      this.queue = this.queue.then(() =>
        discardCheckpoint(this.options.root, this.options.job, id).catch((e: unknown) =>
          this.options.log(`could not remove aborted checkpoint ${id}: ${describeError(e)}`),
        ),
      );
    }
    this.event({ kind: "ack", now: this.options.clock.now(), id, task: snapshot.task, snapshot });
  }

  decline(id: number, task: string, reason: string): void {
    this.event({ kind: "decline", now: this.options.clock.now(), id, task, reason });
  }

  /** Resolves once every command issued so far, and every command those issued, has run. */
  async settled(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.queue) {
      seen = this.queue;
      await seen;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.options.clock.clearInterval(this.timer);
  }

  private event(event: CoordinatorEvent): void {
    if (this.closed || this.coordinator === undefined) return;
    const commands = this.coordinator.handle(event);
    for (const command of commands) {
      this.queue = this.queue.then(() => this.execute(command)).catch((e: unknown) => this.fail(e));
    }
  }

  /** Fails the run; a non-retriable WeirError (e.g. a sink that must not commit) keeps its code, domain and retriable flag. */
  private fail(e: unknown): void {
    this.close();
    const message = `checkpointing of '${this.options.job}' failed: ${describeError(e)}`;
    this.rejectDone(
      isWeirError(e) && !e.retriable
        ? new WeirError(message, { code: e.code, domain: e.domain, retriable: false, ...(e.operator === undefined ? {} : { operator: e.operator }), cause: e })
        : externalError("CHECKPOINT_FAILED", message, { cause: e, retriable: true }),
    );
  }

  private async execute(command: CoordinatorCommand): Promise<void> {
    if (this.closed) return;
    const { job, root, clock, log } = this.options;
    const now = () => clock.now();
    switch (command.kind) {
      case "trigger": {
        this.triggeredAt.set(command.id, command.timestamp);
        this.options.onTriggered?.(command.id, command.timestamp);
        await mkdir(this.directory(command.id), { recursive: true });
        for (const task of this.tasks) await task.onTrigger(command.id, command.stop);
        return;
      }
      case "write-metadata": {
        const metadata: CheckpointMetadata = {
          format: METADATA_FORMAT,
          job,
          id: command.id,
          timestamp: command.timestamp,
          completedAt: now(),
          final: command.final,
          maxParallelism: this.options.maxParallelism,
          ...(this.options.params === undefined ? {} : { params: this.options.params }),
          tasks: [...command.snapshots.values()] as TaskSnapshot[],
        };
        try {
          await writeMetadata(this.directory(command.id), metadata);
          // Before any sink commits for this checkpoint: see completed-record.ts.
          await recordCompleted(root, job, command.id);
        } catch (e) {
          this.event({ kind: "metadata-failed", now: now(), id: command.id, reason: describeError(e) });
          return;
        }
        failpoint("after-metadata");
        if (this.options.beforeCommit !== undefined) this.completedTasks.set(command.id, metadata.tasks);
        const summary = summarize(metadata);
        const stateBytes: Record<string, number> = {};
        for (const t of metadata.tasks) for (const k of t.keyed) stateBytes[k.operator] = (stateBytes[k.operator] ?? 0) + k.handle.bytes;
        this.options.onCompleted?.({
          triggeredAt: metadata.timestamp,
          completedAt: metadata.completedAt,
          stateBytes,
          id: command.id,
          durationMs: summary.durationMs,
          bytes: summary.bytes,
          newBytes: summary.newBytes,
          final: command.final,
          tasks: metadata.tasks.map((t) => ({
            task: t.task,
            durationMs: t.durationMs,
            syncMs: t.syncMs ?? 0,
            asyncBlockingMs: t.asyncBlockingMs ?? 0,
            alignmentMs: t.alignmentMs ?? 0,
            asyncMs: t.asyncMs ?? 0,
            bytes: t.keyed.reduce((n, k) => n + k.handle.bytes, 0),
            newBytes: t.keyed.reduce((n, k) => n + k.handle.newBytes, 0),
          })),
        });
        this.event({ kind: "metadata-written", now: now(), id: command.id });
        return;
      }
      case "notify-complete": {
        const snapshots = this.completedTasks.get(command.id) ?? [];
        this.completedTasks.delete(command.id);
        await this.options.beforeCommit?.(command.id, snapshots);
        await Promise.all(this.tasks.map((t) => t.notifyComplete(command.id)));
        this.triggeredAt.delete(command.id);
        return;
      }
      case "abort":
        log(`checkpoint ${command.id} aborted: ${command.reason}`);
        this.options.onAborted?.(command.id, command.reason, now());
        this.triggeredAt.delete(command.id);
        this.aborted.add(command.id);
        for (const task of this.tasks) task.onAbort?.(command.id);
        await discardCheckpoint(root, job, command.id);
        return;
      case "discard":
        // A held checkpoint (a savepoint being copied from it) is deleted once released.
        if ((this.held.get(command.id) ?? 0) > 0) this.deferred.add(command.id);
        else await discardCheckpoint(root, job, command.id);
        return;
      case "fail-job":
        throw new Error(command.reason);
      case "finish":
        this.close();
        this.resolveDone({ kind: command.outcome, id: command.id });
        return;
    }
  }
}

/** How often the coordinator is ticked: a fifth of the interval, within 10..200 ms. */
const tickMillis = (config: CoordinatorConfig): number =>
  Number.isFinite(config.intervalMs) ? Math.min(200, Math.max(10, Math.floor(config.intervalMs / 5))) : 200;
