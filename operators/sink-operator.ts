/**
 * Wraps a SinkWriter as the last operator of a chain and keeps its two-phase-commit books:
 * `preCommit(n)` (at barrier n) stores n's committables; a snapshot carries every committable
 * not yet committed (an aborted checkpoint's transactions ride along with the next one);
 * `commitUpTo(n)` (checkpoint n complete) commits them oldest first, one checkpoint's at a time,
 * in order. With a writer that cuts on call (`cutsOnCall`, connectors/sink.ts) the engine does not
 * await `preCommit(n)` before processing on; it reads n's committables once it settled
 * (`pendingCommittables(n)`: only those of checkpoints up to n).
 *
 * Failure behaviour of such a preCommit: its transaction's records are in no later one, so the
 * operator is broken: every later write and preCommit fails with the pre-commit error (the task
 * fails and the job restarts from its last checkpoint).
 *
 * Failure behaviour: a commit failing with a retriable error is retried after a backoff on the
 * injected clock (`delayMs`, doubled each time) up to `attempts` times in all; the writer's
 * `commit` must be idempotent, as a failed attempt may have committed part of its committables.
 * A non-retriable error, or the last attempt failing, rejects `commitUpTo` with the sink's name,
 * and the committables stay pending (a restarted job commits them from its checkpoint).
 */
import type { SinkWriter } from "../connectors/sink.ts";
import { sleep, systemClock, type Clock } from "../common/clock.ts";
import { WeirError, isWeirError, externalError, describeError } from "../common/errors.ts";
import { failpoint } from "../common/failpoints.ts";
import type { Operator } from "./operator.ts";

export interface SinkOperator<T> extends Operator<T, never> {
  readonly writer: SinkWriter<T>;
  preCommit(checkpointId: number): Promise<void>;
  /** The writer cuts when preCommit is called: the engine need not await it before processing on. */
  readonly cutsOnCall: boolean;
  /** Committables pre-committed (up to checkpoint `upTo`, default all) and not yet committed, oldest first. */
  pendingCommittables(upTo?: number): unknown[];
  writerState(): unknown;
  commitUpTo(checkpointId: number): Promise<void>;
}

export interface CommitRetry {
  /** Attempts in all, the first one included. */
  readonly attempts: number;
  /** Wait before the second attempt; doubled before each later one. */
  readonly delayMs: number;
}

export interface SinkOperatorOptions {
  readonly retry?: CommitRetry;
  /** Times the waits between commit attempts (default: the system clock). */
  readonly clock?: Clock;
}

const sinkError = (name: string, action: string, e: unknown): WeirError =>
  isWeirError(e)
    ? e.withContext({ operator: name })
    : externalError("SINK_FAILED", `sink '${name}' failed to ${action}: ${describeError(e)}`, { operator: name, cause: e });

export const sinkOperator = <T>(name: string, writer: SinkWriter<T>, options: SinkOperatorOptions = {}): SinkOperator<T> => {
  const retry = options.retry ?? { attempts: 5, delayMs: 200 };
  const clock = options.clock ?? systemClock;
  const pending = new Map<number, readonly unknown[]>();
  let committing: Promise<void> = Promise.resolve();
  let broken: WeirError | undefined;

  const commitWithRetry = async (committables: readonly unknown[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await writer.commit(committables);
        return;
      } catch (e) {
        const err = sinkError(name, "commit", e);
        if (!err.retriable || attempt >= retry.attempts) throw err;
        await sleep(clock, retry.delayMs * 2 ** (attempt - 1));
      }
    }
  };

  return {
    writer,
    cutsOnCall: writer.cutsOnCall === true,
    processBatch(records) {
      if (broken !== undefined) throw broken;
      try {
        const r = writer.write(records);
        if (r !== undefined) return r.catch((e: unknown) => Promise.reject(sinkError(name, "write", e)));
      } catch (e) {
        throw sinkError(name, "write", e);
      }
    },
    async preCommit(checkpointId) {
      if (broken !== undefined) throw broken;
      try {
        const committables = await writer.preCommit(checkpointId);
        if (committables.length > 0) pending.set(checkpointId, committables);
      } catch (e) {
        const err = sinkError(name, "pre-commit", e);
        if (writer.cutsOnCall === true) broken = err;
        throw err;
      }
    },
    writerState: () => writer.snapshotState?.(),
    pendingCommittables: (upTo = Infinity) =>
      [...pending.entries()]
        .filter(([id]) => id <= upTo)
        .sort((a, b) => a[0] - b[0])
        .flatMap(([, c]) => c),
    commitUpTo(checkpointId) {
      // Commits run one after another, in checkpoint order.
      committing = committing.then(async () => {
        for (const id of [...pending.keys()].sort((a, b) => a - b)) {
          if (id > checkpointId) break;
          await commitWithRetry(pending.get(id)!);
          pending.delete(id);
          failpoint("mid-commit");
        }
      });
      return committing;
    },
    close: () => writer.close(),
  };
};
