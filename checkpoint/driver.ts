/**
 * The checkpoint driver: the coordinator's hands. It owns the clock and timers, tells tasks to
 * take checkpoints, writes metadata, tells tasks a checkpoint completed (sinks commit then), and
 * deletes aborted and expired checkpoints. Every decision is the coordinator's; commands run one
 * at a time, in order.
 *
 * Completion order (DESIGN §4.5, §5): all acks -> `_metadata` written atomically -> checkpoint
 * complete -> every task commits its sink transactions. The job's `done` promise resolves after
 * the final checkpoint (or a stop checkpoint) is complete and committed everywhere.
 */
import { mkdir } from "node:fs/promises";
import { failpoint } from "../common/failpoints.ts";
import { describeError, externalError, type WeirError } from "../common/errors.ts";
import { CheckpointCoordinator, type CoordinatorCommand, type CoordinatorConfig } from "./coordinator.ts";
import { summarize, type CheckpointMetadata, type TaskSnapshot } from "./metadata.ts";
import { checkpointPath, discardCheckpoint, jobRoot, writeMetadata } from "./storage.ts";

export interface DriverTask {
  readonly id: string;
  onTrigger(id: number, stop: boolean): Promise<void>;
  notifyComplete(id: number): Promise<void>;
}

export interface CompletedCheckpoint {
  readonly id: number;
  readonly durationMs: number;
  readonly bytes: number;
  readonly newBytes: number;
  readonly final: boolean;
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
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly onCompleted?: (checkpoint: CompletedCheckpoint) => void;
}

export type DriverOutcome = { readonly kind: "finished"; readonly id: number } | { readonly kind: "stopped"; readonly id: number };

export class CheckpointDriver {
  private readonly options: DriverOptions;
  private tasks: readonly DriverTask[] = [];
  private coordinator: CheckpointCoordinator | undefined;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly triggeredAt = new Map<number, number>();
  private stopId: number | undefined;
  private stopRequested = false;
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
    return this.triggeredAt.get(id) ?? this.options.now();
  }

  pendingIds(): readonly number[] {
    return this.coordinator?.pendingIds ?? [];
  }

  /** Registers the tasks (all of them must ack every checkpoint) and starts the timer. */
  start(tasks: readonly DriverTask[]): void {
    this.tasks = tasks;
    const { config, now } = this.options;
    this.coordinator = new CheckpointCoordinator({
      config,
      tasks: tasks.map((t) => t.id),
      firstId: this.options.firstId,
      now: now(),
      retained: this.options.retained,
    });
    const tickMs = Number.isFinite(config.intervalMs) ? Math.min(200, Math.max(10, Math.floor(config.intervalMs / 5))) : 200;
    this.timer = setInterval(() => this.event({ kind: "tick", now: now() }), tickMs);
    this.timer.unref();
  }

  /** Every source is exhausted: take the final checkpoint. */
  requestFinal(): void {
    this.event({ kind: "request", now: this.options.now(), final: true });
  }

  /** Stop with a checkpoint (SIGINT/SIGTERM): sources stop at its barrier; `done` resolves once it is committed. */
  requestStop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.event({ kind: "request", now: this.options.now(), final: false });
  }

  ack(id: number, snapshot: TaskSnapshot): void {
    this.event({ kind: "ack", now: this.options.now(), id, task: snapshot.task, snapshot });
  }

  decline(id: number, task: string, reason: string): void {
    this.event({ kind: "decline", now: this.options.now(), id, task, reason });
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private event(event: Parameters<CheckpointCoordinator["handle"]>[0]): void {
    if (this.closed || this.coordinator === undefined) return;
    const commands = this.coordinator.handle(event);
    for (const command of commands) {
      this.queue = this.queue.then(() => this.execute(command)).catch((e: unknown) => this.fail(e));
    }
  }

  private fail(e: unknown): void {
    this.close();
    this.rejectDone(
      externalError("CHECKPOINT_FAILED", `checkpointing of '${this.options.job}' failed: ${describeError(e)}`, { cause: e, retriable: true }),
    );
  }

  private async execute(command: CoordinatorCommand): Promise<void> {
    if (this.closed) return;
    const { job, root, now, log } = this.options;
    switch (command.kind) {
      case "trigger": {
        this.triggeredAt.set(command.id, command.timestamp);
        const stop = this.stopRequested && this.stopId === undefined && !command.final;
        if (stop) this.stopId = command.id;
        await mkdir(this.directory(command.id), { recursive: true });
        for (const task of this.tasks) await task.onTrigger(command.id, stop);
        return;
      }
      case "write-metadata": {
        const metadata: CheckpointMetadata = {
          format: 1,
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
        } catch (e) {
          this.event({ kind: "metadata-failed", now: now(), id: command.id, reason: describeError(e) });
          return;
        }
        failpoint("after-metadata");
        const summary = summarize(metadata);
        this.options.onCompleted?.({ id: command.id, durationMs: summary.durationMs, bytes: summary.bytes, newBytes: summary.newBytes, final: command.final });
        this.event({ kind: "metadata-written", now: now(), id: command.id });
        return;
      }
      case "notify-complete": {
        await Promise.all(this.tasks.map((t) => t.notifyComplete(command.id)));
        this.triggeredAt.delete(command.id);
        if (command.final) this.finish({ kind: "finished", id: command.id });
        else if (command.id === this.stopId) this.finish({ kind: "stopped", id: command.id });
        return;
      }
      case "abort":
        log(`checkpoint ${command.id} aborted: ${command.reason}`);
        this.triggeredAt.delete(command.id);
        if (command.id === this.stopId) {
          this.stopId = undefined;
          this.stopRequested = false;
          this.requestStop();
        }
        await discardCheckpoint(root, job, command.id);
        return;
      case "discard":
        await discardCheckpoint(root, job, command.id);
        return;
      case "fail-job":
        throw new Error(command.reason);
    }
  }

  private finish(outcome: DriverOutcome): void {
    this.close();
    this.resolveDone(outcome);
  }
}
