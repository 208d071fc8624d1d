/**
 * The checkpoint coordinator: a pure state machine. It takes events (tick, ack, decline,
 * metadata written/failed, a request for an immediate checkpoint, a stop request) with the
 * time they happen and returns commands for its driver (trigger, write metadata, notify
 * complete, abort, discard, finish). It does no I/O and reads no clock, so tests drive it with
 * a manual clock.
 *
 * Guarantees (tested, including by a property test):
 * - A checkpoint is completed (`write-metadata`) only once every expected task has acked it.
 * - `notify-complete n` only follows `metadata-written n`; then pending checkpoints older than n
 *   are aborted (subsumed) and completed checkpoints beyond `retain` are discarded, oldest first.
 * - A checkpoint that times out, is declined, or whose metadata fails is aborted; the job keeps
 *   running unless more than `tolerableFailures` fail in a row (then a `fail-job` command).
 *
 * Ending the job (`finish`, after the `notify-complete` of the checkpoint that ends it):
 * - `request final` (every source is exhausted) takes the final checkpoint; once it completes
 *   the job has `finished`.
 * - `stop` (SIGINT/SIGTERM) takes a stop checkpoint: its trigger says `stop`, so sources stop at
 *   its barrier; once it completes the job has `stopped`. A second stop (or final) request
 *   while one is waiting or in flight changes nothing.
 * - Both skip the interval and the min pause but wait for a free slot: a stop requested while
 *   a checkpoint is in flight is triggered when that one completes or aborts.
 * - A final or stop checkpoint that fails (or is subsumed) is requested again and triggered on
 *   the next tick, with a new id; meanwhile the job keeps running. A final request wins over a
 *   stop request (the final checkpoint also ends the sources).
 * - Nothing is triggered once the job has finished or stopped.
 */
import { decideTrigger } from "./trigger-decider.ts";
import { countFailure, countSuccess, noFailures, type FailureCounter } from "./failure-counter.ts";

export interface CoordinatorConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly minPauseMs: number;
  readonly maxConcurrent: number;
  /** Completed checkpoints kept (>= 1). */
  readonly retain: number;
  readonly tolerableFailures: number;
}

export const defaultCoordinatorConfig: CoordinatorConfig = {
  intervalMs: 1_000,
  timeoutMs: 60_000,
  minPauseMs: 0,
  maxConcurrent: 1,
  retain: 3,
  tolerableFailures: Infinity,
};

export type CoordinatorEvent =
  | { readonly kind: "tick"; readonly now: number }
  | { readonly kind: "request"; readonly now: number; readonly final: boolean }
  | { readonly kind: "stop"; readonly now: number }
  | { readonly kind: "ack"; readonly now: number; readonly id: number; readonly task: string; readonly snapshot: unknown }
  | { readonly kind: "decline"; readonly now: number; readonly id: number; readonly task: string; readonly reason: string }
  | { readonly kind: "metadata-written"; readonly now: number; readonly id: number }
  | { readonly kind: "metadata-failed"; readonly now: number; readonly id: number; readonly reason: string };

export type CoordinatorCommand =
  | { readonly kind: "trigger"; readonly id: number; readonly timestamp: number; readonly final: boolean; readonly stop: boolean }
  | { readonly kind: "write-metadata"; readonly id: number; readonly timestamp: number; readonly final: boolean; readonly snapshots: ReadonlyMap<string, unknown> }
  | { readonly kind: "notify-complete"; readonly id: number }
  | { readonly kind: "abort"; readonly id: number; readonly reason: string }
  | { readonly kind: "discard"; readonly id: number }
  | { readonly kind: "fail-job"; readonly reason: string }
  /** The job may end: checkpoint `id` (final or stop) is complete and was notified. */
  | { readonly kind: "finish"; readonly id: number; readonly outcome: JobEnd };

/** How a job ends well: its sources were exhausted, or it was stopped with a checkpoint. */
export type JobEnd = "finished" | "stopped";

/** What an immediate checkpoint is asked for. */
interface Request {
  readonly final: boolean;
  readonly stop: boolean;
}

const merge = (a: Request | undefined, b: Partial<Request>): Request => ({
  final: (a?.final ?? false) || (b.final ?? false),
  stop: (a?.stop ?? false) || (b.stop ?? false),
});

/** How an acknowledgement was taken (Flink's TaskAcknowledgeResult). */
export type AckOutcome = "success" | "duplicate" | "unknown" | "discarded";

interface Pending {
  readonly id: number;
  readonly triggeredAt: number;
  readonly final: boolean;
  readonly stop: boolean;
  readonly snapshots: Map<string, unknown>;
  /** All acks in; waiting for the driver to write metadata. */
  writing: boolean;
}

export class CheckpointCoordinator {
  private readonly config: CoordinatorConfig;
  private readonly tasks: ReadonlySet<string>;
  private readonly pending = new Map<number, Pending>();
  private readonly completed: number[] = [];
  private readonly aborted = new Set<number>();
  private nextId: number;
  private lastTriggerAt: number;
  private lastSettledAt: number | undefined;
  private requested: Request | undefined;
  private failures: FailureCounter = noFailures;
  private ended: JobEnd | undefined;
  /** The outcome of the last ack event (for tests and logs). */
  lastAckOutcome: AckOutcome | undefined;

  constructor(options: { config: CoordinatorConfig; tasks: Iterable<string>; firstId: number; now: number; retained?: readonly number[] }) {
    this.config = options.config;
    this.tasks = new Set(options.tasks);
    this.nextId = options.firstId;
    this.lastTriggerAt = options.now;
    this.completed.push(...(options.retained ?? []));
  }

  get pendingIds(): number[] {
    return [...this.pending.keys()];
  }

  get completedIds(): readonly number[] {
    return this.completed;
  }

  /** How the job ended (its final or stop checkpoint completed), or undefined while it runs. */
  get end(): JobEnd | undefined {
    return this.ended;
  }

  handle(event: CoordinatorEvent): CoordinatorCommand[] {
    switch (event.kind) {
      case "tick":
        return [...this.expire(event.now), ...this.maybeTrigger(event.now)];
      case "request":
        if (event.final && this.underWay("final")) return this.expire(event.now);
        this.requested = merge(this.requested, { final: event.final });
        return [...this.expire(event.now), ...this.maybeTrigger(event.now)];
      case "stop":
        if (this.underWay("stop")) return this.expire(event.now);
        this.requested = merge(this.requested, { stop: true });
        return [...this.expire(event.now), ...this.maybeTrigger(event.now)];
      case "ack":
        return this.ack(event.id, event.task, event.snapshot);
      case "decline":
        // Once every task has acked, the checkpoint is decided; a late decline cannot undo it.
        if (this.pending.get(event.id)?.writing === true) return [];
        return this.fail(event.id, `declined by ${event.task}: ${event.reason}`, event.now);
      case "metadata-written":
        return this.complete(event.id, event.now);
      case "metadata-failed":
        return this.fail(event.id, `metadata not written: ${event.reason}`, event.now);
    }
  }

  private maybeTrigger(now: number): CoordinatorCommand[] {
    if (this.ended !== undefined) return [];
    const decision = decideTrigger(this.config, {
      now,
      pendingCount: this.pending.size,
      lastTriggerAt: this.lastTriggerAt,
      lastSettledAt: this.lastSettledAt,
      requested: this.requested !== undefined,
    });
    if (decision.kind === "wait") return [];
    const final = this.requested?.final ?? false;
    const stop = !final && (this.requested?.stop ?? false);
    this.requested = undefined;
    const id = this.nextId++;
    this.lastTriggerAt = now;
    this.pending.set(id, { id, triggeredAt: now, final, stop, snapshots: new Map(), writing: false });
    return [{ kind: "trigger", id, timestamp: now, final, stop }];
  }

  private expire(now: number): CoordinatorCommand[] {
    const commands: CoordinatorCommand[] = [];
    for (const p of [...this.pending.values()]) {
      if (!p.writing && now - p.triggeredAt >= this.config.timeoutMs) {
        commands.push(...this.fail(p.id, `timed out after ${this.config.timeoutMs} ms`, now));
      }
    }
    return commands;
  }

  private ack(id: number, task: string, snapshot: unknown): CoordinatorCommand[] {
    const p = this.pending.get(id);
    if (p === undefined) {
      this.lastAckOutcome = this.aborted.has(id) || this.completed.includes(id) ? "discarded" : "unknown";
      return [];
    }
    if (!this.tasks.has(task)) {
      this.lastAckOutcome = "unknown";
      return [];
    }
    if (p.snapshots.has(task)) {
      this.lastAckOutcome = "duplicate";
      return [];
    }
    this.lastAckOutcome = "success";
    p.snapshots.set(task, snapshot);
    if (p.snapshots.size < this.tasks.size || p.writing) return [];
    p.writing = true;
    return [{ kind: "write-metadata", id, timestamp: p.triggeredAt, final: p.final, snapshots: p.snapshots }];
  }

  private complete(id: number, now: number): CoordinatorCommand[] {
    const p = this.pending.get(id);
    if (p === undefined || !p.writing) return [];
    this.pending.delete(id);
    this.lastSettledAt = now;
    this.failures = countSuccess();
    const commands: CoordinatorCommand[] = [{ kind: "notify-complete", id }];
    for (const older of [...this.pending.values()]) {
      if (older.id < id) {
        this.pending.delete(older.id);
        this.aborted.add(older.id);
        this.requestAgain(older); // a final or stop checkpoint must still happen
        commands.push({ kind: "abort", id: older.id, reason: `subsumed by checkpoint ${id}` });
      }
    }
    this.completed.push(id);
    while (this.completed.length > Math.max(1, this.config.retain)) {
      commands.push({ kind: "discard", id: this.completed.shift()! });
    }
    if ((p.final || p.stop) && this.ended === undefined) {
      this.ended = p.final ? "finished" : "stopped";
      // Last, so retention's discards run before the driver ends the job.
      return [...commands, { kind: "finish", id, outcome: this.ended }];
    }
    return [...commands, ...this.maybeTrigger(now)];
  }

  private fail(id: number, reason: string, now: number): CoordinatorCommand[] {
    const p = this.pending.get(id);
    if (p === undefined) return [];
    this.pending.delete(id);
    this.aborted.add(id);
    this.lastSettledAt = now;
    this.requestAgain(p); // a final or stop checkpoint is retried until it completes
    this.failures = countFailure(this.failures, this.config.tolerableFailures);
    const commands: CoordinatorCommand[] = [{ kind: "abort", id, reason }];
    if (this.failures.exceeded) {
      commands.push({ kind: "fail-job", reason: `${this.failures.consecutive} checkpoints failed in a row; last: ${reason}` });
    }
    return commands;
  }

  /** A final (or stop) checkpoint is requested or in flight. */
  private underWay(flag: "final" | "stop"): boolean {
    return this.requested?.[flag] === true || [...this.pending.values()].some((p) => p[flag]);
  }

  /** `p` (aborted) was a final or stop checkpoint: ask for it again unless another is under way. */
  private requestAgain(p: Pending): void {
    const final = p.final && !this.underWay("final");
    const stop = p.stop && !this.underWay("stop");
    if (final || stop) this.requested = merge(this.requested, { final, stop });
  }
}
