/**
 * Messages between the main thread (worker-pool.ts) and a worker thread (worker-main.ts). Plain
 * data only (structured clone): errors travel as `SerializedError` and are rebuilt as WeirErrors
 * with their code, domain and retriability, so a user error is still not retried.
 *
 * Life of a worker: init -> (ready | failed) ; run ; then any number of trigger / complete / abort
 * requests, answered by reply ; at the end teardown -> closed. While running it posts ack, decline,
 * source-finished, metrics, log and phase messages; a failure of any of its subtasks posts failed.
 */
import type { TaskSnapshot } from "../../checkpoint/metadata.ts";
import { WeirError, isWeirError, type ErrorDomain } from "../../common/errors.ts";
import type { MetricCounters } from "../metrics.ts";
import type { SubtaskSettings } from "../subtask-factory.ts";
import type { RunPhase } from "../runtime.ts";

/** The job module a worker loads and how the CLI built it. */
export interface WorkerJobSource {
  /** Absolute path of the job module. */
  readonly file: string;
  /** The path as the user gave it (for messages); default `file`. */
  readonly shownAs?: string;
  readonly params: Readonly<Record<string, string>>;
  readonly parallelism: number;
}

/** What every worker of a run shares (sent in each init). */
export interface WorkerRunSettings extends SubtaskSettings {
  /** Batches an in-thread channel holds. */
  readonly channelCapacity: number;
  /** The checkpoint storage root (the driver's `root` option). */
  readonly checkpointRoot: string;
  /** Every split of each source, listed once by the main thread. */
  readonly splits: Readonly<Record<string, readonly string[]>>;
}

export interface InitMessage {
  readonly type: "init";
  readonly worker: number;
  readonly workers: number;
  readonly slots: readonly number[];
  readonly job: WorkerJobSource;
  readonly settings: WorkerRunSettings;
  /** The job as the main thread planned it: a worker refuses to run a different plan. */
  readonly planShape: string;
  /** The shared ring of each channel that crosses threads, by `channelKey`. */
  readonly rings: Readonly<Record<string, SharedArrayBuffer>>;
}

export type ToWorker =
  | InitMessage
  | { readonly type: "run" }
  | { readonly type: "trigger"; readonly seq: number; readonly task: string; readonly id: number; readonly stop: boolean; readonly triggeredAt: number }
  | { readonly type: "complete"; readonly seq: number; readonly task: string; readonly id: number }
  | { readonly type: "abort"; readonly id: number }
  | { readonly type: "teardown" };

/** Counters a worker adds up over its subtasks (engine/metrics.ts's per-batch numbers). */
export type WorkerCounters = MetricCounters;

export type FromWorker =
  | { readonly type: "ready"; readonly tasks: readonly string[] }
  | { readonly type: "failed"; readonly error: SerializedError }
  | { readonly type: "reply"; readonly seq: number; readonly error?: SerializedError }
  | { readonly type: "ack"; readonly id: number; readonly snapshot: TaskSnapshot }
  | { readonly type: "decline"; readonly id: number; readonly task: string; readonly reason: string }
  | { readonly type: "source-finished" }
  | { readonly type: "metrics"; readonly counters: WorkerCounters }
  | { readonly type: "log"; readonly line: string }
  | { readonly type: "phase"; readonly phase: RunPhase }
  | { readonly type: "closed" };

export interface SerializedError {
  readonly message: string;
  readonly stack: string | undefined;
  /** Present for a WeirError. */
  readonly weir?: {
    readonly code: string;
    readonly domain: ErrorDomain;
    readonly retriable: boolean;
    readonly operator: string | undefined;
    readonly jobFile: string | undefined;
  };
}

export const serializeError = (e: unknown): SerializedError => {
  const error = e instanceof Error ? e : new Error(String(e));
  return {
    message: error.message,
    stack: error.stack,
    ...(isWeirError(error)
      ? { weir: { code: error.code, domain: error.domain, retriable: error.retriable, operator: error.operator, jobFile: error.jobFile } }
      : {}),
  };
};

/** The error as the worker threw it: a WeirError keeps code, domain, retriability and context; another error keeps message and stack. */
export const deserializeError = (s: SerializedError): Error => {
  const e =
    s.weir === undefined
      ? new Error(s.message)
      : new WeirError(s.message, {
          code: s.weir.code,
          domain: s.weir.domain,
          retriable: s.weir.retriable,
          ...(s.weir.operator === undefined ? {} : { operator: s.weir.operator }),
          ...(s.weir.jobFile === undefined ? {} : { jobFile: s.weir.jobFile }),
        });
  if (s.stack !== undefined) e.stack = s.stack;
  return e;
};

export const channelKey = (a: { toChain: number; toSubtask: number; input: number; fromSubtask: number }): string =>
  `${a.toChain}/${a.toSubtask}/${a.input}/${a.fromSubtask}`;
