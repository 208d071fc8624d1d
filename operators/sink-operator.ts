/**
 * Wraps a SinkWriter as the last operator of a chain and keeps its two-phase-commit books:
 * `preCommit(n)` (at barrier n) stores n's committables; a snapshot carries every committable
 * not yet committed (an aborted checkpoint's transactions ride along with the next one);
 * `commitUpTo(n)` (checkpoint n complete) commits them oldest first, retrying failures.
 */
import type { SinkWriter } from "../connectors/sink.ts";
import { WeirError, isWeirError, externalError, describeError } from "../common/errors.ts";
import { failpoint } from "../common/failpoints.ts";
import type { Operator } from "./operator.ts";

export interface SinkOperator<T> extends Operator<T, never> {
  readonly writer: SinkWriter<T>;
  preCommit(checkpointId: number): Promise<void>;
  /** Committables pre-committed and not yet committed, oldest first. */
  pendingCommittables(): unknown[];
  writerState(): unknown;
  commitUpTo(checkpointId: number): Promise<void>;
}

export interface CommitRetry {
  readonly attempts: number;
  readonly delayMs: number;
}

const sinkError = (name: string, action: string, e: unknown): WeirError =>
  isWeirError(e)
    ? e.withContext({ operator: name })
    : externalError("SINK_FAILED", `sink '${name}' failed to ${action}: ${describeError(e)}`, { operator: name, cause: e });

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const sinkOperator = <T>(name: string, writer: SinkWriter<T>, retry: CommitRetry = { attempts: 5, delayMs: 200 }): SinkOperator<T> => {
  const pending = new Map<number, readonly unknown[]>();
  let committing: Promise<void> = Promise.resolve();

  const commitWithRetry = async (committables: readonly unknown[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await writer.commit(committables);
        return;
      } catch (e) {
        const err = sinkError(name, "commit", e);
        if (!err.retriable || attempt >= retry.attempts) throw err;
        await sleep(retry.delayMs * 2 ** (attempt - 1));
      }
    }
  };

  return {
    writer,
    processBatch(records) {
      try {
        const r = writer.write(records);
        if (r !== undefined) return r.catch((e: unknown) => Promise.reject(sinkError(name, "write", e)));
      } catch (e) {
        throw sinkError(name, "write", e);
      }
    },
    async preCommit(checkpointId) {
      try {
        const committables = await writer.preCommit(checkpointId);
        if (committables.length > 0) pending.set(checkpointId, committables);
      } catch (e) {
        throw sinkError(name, "pre-commit", e);
      }
    },
    writerState: () => writer.snapshotState?.(),
    pendingCommittables: () => [...pending.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, c]) => c),
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
