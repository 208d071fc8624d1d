/**
 * What a run does with its sinks before any task starts: claim their destinations, make
 * committed output match the starting state (or refuse), commit what the restored checkpoint
 * pre-committed, abort what came after (including what earlier, killed runs left open), then
 * record this run in the runs log.
 *
 * Failure behaviour: the first failing step throws and the run does not start. Each claim is
 * handed to `onClaimed` as soon as it is taken, so the caller releases it whatever fails later.
 */
import type { RecoveryReport, Sink, SinkClaim } from "../connectors/sink.ts";
import { allRuns, markCleaned, recordRun } from "../checkpoint/runs.ts";
import { jobRoot } from "../checkpoint/storage.ts";
import { rewindOutput } from "./output-rewind.ts";
import type { JobPlan } from "./plan.ts";
import type { RestorePlan } from "./restore-plan.ts";
import type { SinkReport } from "./recovery-decision.ts";
import { sideSinksOf } from "./side-sinks.ts";

export interface SinkStartupOptions {
  readonly plan: JobPlan;
  /** Checkpoint storage root. */
  readonly root: string;
  readonly runId: string;
  /** The checkpoint this run restores, if any. */
  readonly restore: RestorePlan | undefined;
  /** The highest checkpoint id that ever completed (checkpoint/completed-record.ts). */
  readonly highestCompleted: number;
  /** `--fresh`: the job's old checkpoint lineage is deleted once the output checks pass. */
  readonly fresh: boolean;
  readonly duplicateOutput: "refuse" | "allow";
  /** Sinks shown to hold nothing of checkpoints after this one (a fallback past aborted transactions). */
  readonly nothingVisibleAfter?: { readonly checkpoint: number; readonly operators: readonly string[] };
  readonly existingOutput: "refuse" | "overwrite";
  /** Processing time: the run is recorded as started at the end of these steps. */
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly onClaimed: (claim: SinkClaim, operator: string) => void;
  /**
   * Called with what the sinks' recovery found of the restored checkpoint's committables, before
   * the run is recorded; it may throw to restore another checkpoint instead (engine/recovery-decision.ts).
   */
  readonly onRecovered?: (reports: readonly SinkReport[]) => Promise<void>;
}

export const startSinks = async (options: SinkStartupOptions): Promise<void> => {
  const { plan, root, runId, restore } = options;
  const job = plan.job;
  const sinkNodes = job.nodes.filter((n) => n.spec.kind === "sink");
  const sideSinks = sideSinksOf(job.nodes);
  const sinks = [
    ...sinkNodes.flatMap((n) => (n.spec.kind === "sink" ? [{ operator: n.name, sink: n.spec.sink as Sink<unknown> }] : [])),
    ...sideSinks.map(({ operator, sink }) => ({ operator, sink })),
  ];
  const parallelismOf = (nodeName: string) => plan.chains.find((c) => c.nodes.some((n) => n.name === nodeName))!.parallelism;
  const sinkParallelism = Object.fromEntries([
    ...sinkNodes.map((n) => [n.name, parallelismOf(n.name)] as const),
    ...sideSinks.map((s) => [s.operator, parallelismOf(s.source)] as const),
  ]);
  for (const { operator, sink } of sinks) {
    if (sink.claim === undefined) continue;
    options.onClaimed(await sink.claim({ jobName: job.name, operatorName: operator, runId, checkpointDir: jobRoot(root, job.name) }), operator);
  }
  const runs = await allRuns(root, job.name);
  const previousRuns = runs.filter((r) => !r.cleaned && r.runId !== runId);
  await rewindOutput({
    root,
    job: job.name,
    sinks,
    restoredId: restore?.id,
    highestCompleted: options.highestCompleted,
    fresh: options.fresh,
    runIds: runs.map((r) => r.runId),
    duplicateOutput: options.duplicateOutput,
    ...(options.nothingVisibleAfter === undefined ? {} : { nothingVisibleAfter: options.nothingVisibleAfter }),
    existingOutput: options.existingOutput,
    log: options.log,
  });
  const reports: SinkReport[] = [];
  for (const { operator, sink } of sinks) {
    if (sink.recover === undefined) continue;
    const report: RecoveryReport | void = await sink.recover(restore?.committables.get(operator) ?? [], {
      jobName: job.name,
      operatorName: operator,
      writerStates: restore?.writerStates.get(operator) ?? [],
      previousRuns: previousRuns
        .filter((r) => r.sinkParallelism[operator] !== undefined)
        .map((r) => ({ runId: r.runId, parallelism: r.sinkParallelism[operator]! })),
    });
    if (report !== undefined) reports.push({ operator, report });
  }
  await options.onRecovered?.(reports);
  await markCleaned(root, job.name, previousRuns);
  await recordRun(root, job.name, { runId, startedAt: options.now(), sinkParallelism });
};
