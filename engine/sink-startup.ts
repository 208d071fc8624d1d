/**
 * What a run does with its sinks before any task starts: claim their destinations, make
 * committed output match the starting state (or refuse), commit what the restored checkpoint
 * pre-committed, abort what came after (including what earlier, killed runs left open), then
 * record this run in the runs log.
 *
 * Failure behaviour: the first failing step throws and the run does not start. Each claim is
 * handed to `onClaimed` as soon as it is taken, so the caller releases it whatever fails later.
 */
import type { Sink } from "../connectors/sink.ts";
import { allRuns, markCleaned, recordRun } from "../checkpoint/runs.ts";
import { jobRoot } from "../checkpoint/storage.ts";
import { rewindOutput } from "./output-rewind.ts";
import type { JobPlan } from "./plan.ts";
import type { RestorePlan } from "./restore-plan.ts";

export interface SinkStartupOptions {
  readonly plan: JobPlan;
  /** Checkpoint storage root. */
  readonly root: string;
  readonly runId: string;
  /** The checkpoint this run restores, if any. */
  readonly restore: RestorePlan | undefined;
  /** The highest checkpoint id that ever completed (checkpoint/completed-record.ts). */
  readonly highestCompleted: number;
  readonly duplicateOutput: "refuse" | "allow";
  readonly existingOutput: "refuse" | "overwrite";
  /** Processing time: the run is recorded as started at the end of these steps. */
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly onClaimed: (claim: { release(): Promise<void> }) => void;
}

export const startSinks = async (options: SinkStartupOptions): Promise<void> => {
  const { plan, root, runId, restore } = options;
  const job = plan.job;
  const sinkNodes = job.nodes.filter((n) => n.spec.kind === "sink");
  const sinks = sinkNodes.flatMap((n) => (n.spec.kind === "sink" ? [{ operator: n.name, sink: n.spec.sink as Sink<unknown> }] : []));
  for (const { operator, sink } of sinks) {
    if (sink.claim === undefined) continue;
    options.onClaimed(await sink.claim({ jobName: job.name, operatorName: operator, runId, checkpointDir: jobRoot(root, job.name) }));
  }
  const runs = await allRuns(root, job.name);
  const previousRuns = runs.filter((r) => !r.cleaned && r.runId !== runId);
  await rewindOutput({
    root,
    job: job.name,
    sinks,
    restoredId: restore?.id,
    highestCompleted: options.highestCompleted,
    runIds: runs.map((r) => r.runId),
    duplicateOutput: options.duplicateOutput,
    existingOutput: options.existingOutput,
    log: options.log,
  });
  for (const node of sinkNodes) {
    if (node.spec.kind !== "sink" || node.spec.sink.recover === undefined) continue;
    await node.spec.sink.recover(restore?.committables.get(node.name) ?? [], {
      jobName: job.name,
      operatorName: node.name,
      writerStates: restore?.writerStates.get(node.name) ?? [],
      previousRuns: previousRuns
        .filter((r) => r.sinkParallelism[node.name] !== undefined)
        .map((r) => ({ runId: r.runId, parallelism: r.sinkParallelism[node.name]! })),
    });
  }
  await markCleaned(root, job.name, previousRuns);
  await recordRun(root, job.name, {
    runId,
    startedAt: options.now(),
    sinkParallelism: Object.fromEntries(sinkNodes.map((n) => [n.name, plan.chains.find((c) => c.nodes.includes(n))!.parallelism])),
  });
};
