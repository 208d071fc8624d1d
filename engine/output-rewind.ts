/**
 * Makes a run's committed output match the state it starts from, or refuses to start (before
 * anything is changed). The principle: after a restore, the committed output matches the restored
 * state, or the user explicitly accepted otherwise.
 *
 * - Restoring checkpoint n while checkpoints up to m > n had completed (`highestCompleted`, see
 *   checkpoint/completed-record.ts: `--from` an older checkpoint, or a fallback past a damaged
 *   latest one): checkpoints n+1..m may have committed output the restored state will produce
 *   again. A sink without `retract` (Kafka, print) would write it twice: refused unless
 *   `duplicateOutput: "allow"`. Otherwise checkpoints above n are deleted (that lineage is
 *   abandoned: a later resume must not return to it once its output is gone), then every sink
 *   with `retract` removes what its job's runs committed after n, one line each.
 *   Starting without a checkpoint while checkpoints had completed (every one damaged or set
 *   aside) counts as restoring checkpoint 0: it would retract all committed output, so it is
 *   refused unless `existingOutput: "overwrite"` (the CLI refuses earlier, in resume.ts, listing
 *   the damage; starting over there is `--fresh --overwrite-output`).
 * - Starting without a checkpoint and without completed ones (a new job, or `--fresh`) while a
 *   sink holds committed output of earlier runs of the job: refused, naming it, unless
 *   `existingOutput: "overwrite"`, which retracts it. Sinks that cannot tell (Kafka) are not
 *   checked: a fresh start re-reads its input by definition. With `fresh`, the job's checkpoint
 *   lineage is deleted only after that check passed, before the output is deleted.
 *
 * Crash safety: each step is idempotent and the highest-completed record is left as it is (new
 * checkpoints get ids above it), so a run killed half-way through repeats the rest next time.
 */
import type { Sink } from "../connectors/sink.ts";
import { userError } from "../common/errors.ts";
import { discardCheckpoint, discardLineage, listCheckpointIds } from "../checkpoint/storage.ts";
import { COMPLETED_FILE } from "../checkpoint/completed-record.ts";

export interface OutputRewindOptions {
  readonly root: string;
  readonly job: string;
  readonly sinks: readonly { readonly operator: string; readonly sink: Sink<unknown> }[];
  /** The checkpoint the run restores, undefined on a start without one. */
  readonly restoredId: number | undefined;
  readonly highestCompleted: number;
  /** `--fresh`: delete the job's checkpoint lineage once the checks pass (see CheckpointOptions.fresh). */
  readonly fresh?: boolean;
  /** Every recorded run of the job (only their output is the job's). */
  readonly runIds: readonly string[];
  readonly duplicateOutput: "refuse" | "allow";
  /**
   * Sinks known to hold no output of checkpoints after `checkpoint` (a recovery fallback found all
   * their transactions of the checkpoints above aborted, and announced the fallback itself): not
   * refused for lacking `retract` when restoring `checkpoint` or later.
   */
  readonly nothingVisibleAfter?: { readonly checkpoint: number; readonly operators: readonly string[] };
  readonly existingOutput: "refuse" | "overwrite";
  readonly log: (line: string) => void;
}

/** "4", "4-7", "4-7, 9": ascending ids, consecutive runs joined. */
export const formatIds = (ids: readonly number[]): string => {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    parts.push(i === j ? `${ids[i]}` : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
};

/** "1 part file", "3 part files" (units are given in the plural). */
const count = (n: number, unit: string) => `${n} ${n === 1 ? unit.replace(/s$/, "") : unit}`;

const range = (from: number, to: number) => (from === to ? `checkpoint ${from}` : `checkpoints ${from}-${to}`);

export const rewindOutput = async (options: OutputRewindOptions): Promise<void> => {
  const { root, job, sinks, restoredId, highestCompleted, runIds, log } = options;
  const context = (operator: string, dryRun: boolean) => ({ jobName: job, operatorName: operator, runIds, dryRun });

  // A start without a checkpoint in a lineage that had completed some (all of them damaged, or
  // deleted by hand; `--fresh` passes 0) is a restore of "checkpoint 0".
  const from = restoredId ?? (highestCompleted > 0 ? 0 : undefined);
  if (from === undefined) {
    // All refusals first: nothing is changed by a refused run.
    if (options.existingOutput === "refuse") {
      for (const { operator, sink } of sinks) {
        if (sink.retract === undefined) continue;
        const found = await sink.retract(0, context(operator, true));
        if (found.removed === 0) continue;
        throw userError(
          "OUTPUT_EXISTS",
          `${found.location} holds ${count(found.removed, found.unit)} committed by an earlier run of '${job}' (sink '${operator}'); starting from the beginning would write that output again next to them: delete them, or run with --overwrite-output to have them deleted`,
          { operator },
        );
      }
    }
    if (options.fresh === true) await discardLineage(root, job, [COMPLETED_FILE]);
    if (options.existingOutput === "overwrite") {
      for (const { operator, sink } of sinks) {
        if (sink.retract === undefined) continue;
        const found = await sink.retract(0, context(operator, false));
        if (found.removed > 0) log(`sink '${operator}': deleted ${count(found.removed, found.unit)} of an earlier run of '${job}' from ${found.location} (--overwrite-output)`);
      }
    }
    return;
  }
  if (restoredId === undefined && options.existingOutput === "refuse") {
    throw userError(
      "NO_RESTORABLE_CHECKPOINT",
      `starting '${job}' from the beginning, but checkpoints up to ${highestCompleted} had completed: that would retract all the output they committed; restore one of them, or start over with --fresh --overwrite-output`,
    );
  }

  const starting = from === 0 ? `starting '${job}' from the beginning` : `restoring checkpoint ${from} of '${job}'`;
  const restores = from === 0 ? "starts from the beginning" : `restores checkpoint ${from}`;
  const later = highestCompleted > from ? range(from + 1, highestCompleted) : undefined;
  if (later !== undefined) {
    const clean = options.nothingVisibleAfter;
    const cannot = sinks
      .filter((s) => s.sink.retract === undefined && !(clean !== undefined && clean.checkpoint <= from && clean.operators.includes(s.operator)))
      .map((s) => `'${s.operator}'`);
    if (cannot.length > 0 && options.duplicateOutput === "refuse") {
      throw userError(
        "DUPLICATE_OUTPUT",
        `${starting}, but ${later} had already completed: sink ${cannot.join(", ")} cannot take back what they committed, so it would be written twice; run with --allow-duplicate-output to accept that`,
      );
    }
    const abandoned = (await listCheckpointIds(root, job)).filter((id) => id > from);
    for (const id of abandoned) await discardCheckpoint(root, job, id);
    if (abandoned.length > 0 && clean === undefined) log(`deleted checkpoint${abandoned.length === 1 ? "" : "s"} ${formatIds(abandoned)} of '${job}': this run ${restores}`);
    if (cannot.length > 0) log(`sink ${cannot.join(", ")}: the output of ${later} will be written again (--allow-duplicate-output)`);
  }
  for (const { operator, sink } of sinks) {
    if (sink.retract === undefined) continue;
    const done = await sink.retract(from, context(operator, false));
    if (done.removed === 0) continue;
    log(
      `sink '${operator}': retracted ${count(done.removed, done.unit)} committed by checkpoint${done.checkpoints.length === 1 ? "" : "s"} ${formatIds(done.checkpoints)} from ${done.location} (the run ${restores})`,
    );
  }
};
