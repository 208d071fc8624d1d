/**
 * Restoring the checkpoint before the one asked for, when the destination discarded what the
 * restored checkpoint n had pre-committed (e.g. Kafka transactions the broker aborted because the
 * job stayed down longer than their transaction timeout; engine/recovery-decision.ts decides).
 *
 * Contract: `fallBackIfDiscarded` runs while a run starts its sinks, before any task runs; it
 * throws `RestoreFallback` to abandon that start, or the decision's error to stop. The caller's
 * teardown then runs as for any failed start, and `withRestoreFallback` logs the decision's one
 * line and starts again from checkpoint n-1 (or from the beginning when n is 1), telling the
 * output rewind which sinks are known to hold nothing of the later checkpoints.
 */
import { checkpointPath, loadCheckpoint } from "../checkpoint/storage.ts";
import { decideRecovery, type RecoveryDecision, type SinkReport } from "./recovery-decision.ts";
import { restorePlanFrom, type RestorePlan } from "./restore-plan.ts";
import type { JobResult, RunOptions } from "./runtime.ts";

type RestoredCheckpoint = RestorePlan & { readonly maxParallelism: number };

/** Thrown before anything runs when recovery decides to restore an earlier checkpoint. */
export class RestoreFallback {
  constructor(
    readonly decision: Extract<RecoveryDecision, { kind: "fallback" }>,
    readonly previous: RestoredCheckpoint | undefined,
  ) {}
}

/** Checkpoint n-1 of `job`, if it can be restored ({ plan: undefined } for n = 1: the beginning). */
const previousCheckpoint = async (root: string, job: string, n: number): Promise<{ id: number; path: string | undefined; plan: RestoredCheckpoint | undefined } | undefined> => {
  if (n <= 1) return { id: 0, path: undefined, plan: undefined };
  const path = checkpointPath(root, job, n - 1);
  const found = await loadCheckpoint(path).catch(() => undefined);
  if (found === undefined) return undefined;
  return { id: n - 1, path, plan: { ...restorePlanFrom(found.metadata, found.dir), maxParallelism: found.metadata.maxParallelism } };
};

/** Given the sinks' recovery reports of the restored checkpoint: nothing, `RestoreFallback`, or the decision's error. */
export const fallBackIfDiscarded = async (o: {
  readonly root: string;
  readonly job: string;
  readonly restore: RestorePlan | undefined;
  readonly reports: readonly SinkReport[];
}): Promise<void> => {
  const { restore, reports } = o;
  if (restore === undefined || !reports.some((r) => r.report.aborted.length > 0 || r.report.unknown.length > 0)) return;
  const previous = await previousCheckpoint(o.root, o.job, restore.id);
  const decision = decideRecovery({ job: o.job, restoredId: restore.id, reports, previous });
  if (decision.kind === "fallback") throw new RestoreFallback(decision, previous?.plan);
};

/** Runs `runOnce`, restarting it from an earlier checkpoint for every `RestoreFallback` it throws. */
export const withRestoreFallback = async (options: RunOptions, runOnce: (options: RunOptions) => Promise<JobResult>): Promise<JobResult> => {
  for (;;) {
    try {
      return await runOnce(options);
    } catch (e) {
      if (!(e instanceof RestoreFallback)) throw e;
      const { decision, previous } = e;
      (options.log ?? (() => undefined))(decision.line);
      const earlier = options.output?.nothingVisibleAfter;
      const operators = earlier === undefined ? decision.operators : decision.operators.filter((op) => earlier.operators.includes(op));
      const { restore: _dropped, ...checkpoints } = options.checkpoints ?? {};
      options = {
        ...options,
        checkpoints: {
          ...checkpoints,
          ...(previous === undefined ? {} : { restore: previous }),
          retained: (options.checkpoints?.retained ?? []).filter((id) => id <= decision.to),
        },
        output: { ...options.output, nothingVisibleAfter: { checkpoint: decision.to, operators } },
      };
    }
  }
};
