/**
 * Chooses what a `weir run` starts from: the latest completed checkpoint of the job (skipping,
 * with a message, any that is partial or damaged), a checkpoint given with `--from`, or nothing.
 * With `--fresh` it deletes nothing itself: the run discards the old lineage once the output
 * checks have passed (`CheckpointOptions.fresh`, see engine/output-rewind.ts), so a refused
 * `--fresh` leaves the checkpoints as they were.
 *
 * It refuses, changing nothing, when no checkpoint can be restored although some had completed
 * (all of them damaged or set aside): starting from the beginning would retract all committed
 * output, which needs the user's consent (`--fresh --overwrite-output`). An unknown metadata
 * format or a read error is thrown as is (see checkpoint/storage.ts): nothing is set aside.
 */
import { rename, rm } from "node:fs/promises";
import { findLatest, jobRoot, checkpointPath, highestCheckpointId, loadCheckpoint, type FoundCheckpoint } from "../../checkpoint/storage.ts";
import { highestCompleted } from "../../checkpoint/completed-record.ts";
import { restorePlanFrom } from "../restore-plan.ts";
import { isWeirError, userError } from "../../common/errors.ts";
import type { CheckpointOptions } from "../runtime.ts";

export interface ResumeChoice {
  readonly found: FoundCheckpoint | undefined;
  readonly checkpoints: CheckpointOptions;
}

export const chooseStart = async (options: {
  root: string;
  job: string;
  fresh: boolean;
  from: string | undefined;
  log: (line: string) => void;
}): Promise<ResumeChoice> => {
  const { root, job, log } = options;
  if (options.fresh && options.from !== undefined) {
    throw userError("CONFLICTING_OPTIONS", `--fresh starts '${job}' from the beginning and --from ${options.from} restores a checkpoint: pass only one of them`);
  }
  if (options.fresh) return { found: undefined, checkpoints: { root, firstId: 1, retained: [], fresh: true } };
  if (options.from !== undefined) {
    const found = await loadCheckpoint(options.from).catch((e: unknown) => {
      if (!isWeirError(e) || e.code !== "CHECKPOINT_CORRUPT") throw e;
      throw userError("CHECKPOINT_CORRUPT", `--from ${options.from}: ${e.message}; pick another checkpoint (weir checkpoints list --job ${job}) or run with --fresh`);
    });
    if (found.metadata.job !== job) {
      const what = found.metadata.savepoint === undefined ? "a checkpoint" : "a savepoint";
      throw userError(
        "CHECKPOINT_OF_ANOTHER_JOB",
        `--from ${options.from} is ${what} of job '${found.metadata.job}', not of '${job}': pass one of '${job}' (weir checkpoints list --job ${job})`,
      );
    }
    return {
      found,
      checkpoints: {
        root,
        restore: { ...restorePlanFrom(found.metadata, found.dir), maxParallelism: found.metadata.maxParallelism },
        firstId: Math.max(found.metadata.id, await highestCheckpointId(root, job)) + 1,
        retained: [],
      },
    };
  }
  const firstId = (await highestCheckpointId(root, job)) + 1;
  const result = await findLatest(root, job);
  if (result.latest === undefined) {
    const completed = await highestCompleted(root, job);
    if (completed > 0) {
      const damaged = result.skipped.filter((s) => s.reason === "damaged").map((s) => s.problem);
      throw userError(
        "NO_RESTORABLE_CHECKPOINT",
        `no checkpoint of '${job}' in ${jobRoot(root, job)} can be restored, although checkpoints up to ${completed} had completed${damaged.length > 0 ? ` (${damaged.join("; ")})` : " (the others are set aside as chk-<n>.corrupt or deleted)"}; nothing was changed. Starting over retracts all output the job committed: run with --fresh --overwrite-output to do that`,
      );
    }
  }
  for (const s of result.skipped) log(s.message);
  // Set partial and unreadable checkpoints above the latest aside: partial ones are deleted,
  // unreadable ones renamed to chk-<n>.corrupt for inspection.
  const above = result.allIds.filter((id) => result.latest === undefined || id > result.latest.metadata.id);
  for (const id of above) {
    const dir = checkpointPath(root, job, id);
    const partial = result.skipped.some((s) => s.id === id && s.reason === "partial");
    if (partial) await rm(dir, { recursive: true, force: true });
    else await rename(dir, `${dir}.corrupt`).catch(() => rm(dir, { recursive: true, force: true }));
  }
  const latest = result.latest;
  if (latest === undefined) return { found: undefined, checkpoints: { root, firstId, retained: [] } };
  return {
    found: latest,
    checkpoints: {
      root,
      restore: { ...restorePlanFrom(latest.metadata, latest.dir), maxParallelism: latest.metadata.maxParallelism },
      firstId,
      retained: [...result.older, latest.metadata.id],
    },
  };
};
