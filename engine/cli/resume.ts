/**
 * Chooses what a `weir run` starts from: the latest completed checkpoint of the job (skipping,
 * with a message, any that is partial or unreadable), a checkpoint given with `--from`, or
 * nothing (`--fresh` deletes the job's old checkpoints first, so a later resume can never pick
 * up the old lineage).
 */
import { readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { findLatest, jobRoot, checkpointPath, highestCheckpointId, loadCheckpoint, listCheckpointIds, type FoundCheckpoint } from "../../checkpoint/storage.ts";
import { restorePlanFrom } from "../restore-plan.ts";
import { isWeirError, userError } from "../../common/errors.ts";
import type { CheckpointOptions } from "../runtime.ts";

export interface ResumeChoice {
  readonly found: FoundCheckpoint | undefined;
  readonly checkpoints: CheckpointOptions;
  /**
   * Ids of checkpoints above the one restored (or all, when none is) that this run does not
   * restore, ascending: partial or damaged ones set aside, or newer ones passed over by `--from`.
   * Their sinks may already have committed output that the restored state does not include.
   */
  readonly skippedIds: readonly number[];
}

export const chooseStart = async (options: {
  root: string;
  job: string;
  fresh: boolean;
  from: string | undefined;
  log: (line: string) => void;
}): Promise<ResumeChoice> => {
  const { root, job, log } = options;
  if (options.fresh) {
    const names = await readdir(jobRoot(root, job)).catch(() => [] as string[]);
    for (const name of names) if (name !== ".lock" && name !== "runs") await rm(join(jobRoot(root, job), name), { recursive: true, force: true });
  }
  if (options.from !== undefined) {
    const found = await loadCheckpoint(options.from).catch((e: unknown) => {
      if (!isWeirError(e) || e.code !== "CHECKPOINT_CORRUPT") throw e;
      throw userError("CHECKPOINT_CORRUPT", `--from ${options.from}: ${e.message}; pick another checkpoint (weir checkpoints list --job ${job}) or run with --fresh`);
    });
    const ids = await listCheckpointIds(root, job);
    return {
      found,
      checkpoints: {
        root,
        restore: { ...restorePlanFrom(found.metadata, found.dir), maxParallelism: found.metadata.maxParallelism },
        firstId: Math.max(found.metadata.id, await highestCheckpointId(root, job)) + 1,
        retained: [],
      },
      skippedIds: ids.filter((id) => id > found.metadata.id),
    };
  }
  const firstId = (await highestCheckpointId(root, job)) + 1;
  const result = await findLatest(root, job);
  for (const s of result.skipped) log(s.message);
  // Set partial and unreadable checkpoints above the latest aside: partial ones are deleted,
  // unreadable ones renamed to chk-<n>.corrupt for inspection.
  const skippedIds = result.allIds.filter((id) => result.latest === undefined || id > result.latest.metadata.id);
  for (const id of skippedIds) {
    const dir = checkpointPath(root, job, id);
    const partial = result.skipped.some((s) => s.id === id && s.reason === "partial");
    if (partial) await rm(dir, { recursive: true, force: true });
    else await rename(dir, `${dir}.corrupt`).catch(() => rm(dir, { recursive: true, force: true }));
  }
  const latest = result.latest;
  if (latest === undefined) return { found: undefined, checkpoints: { root, firstId, retained: [] }, skippedIds };
  return {
    found: latest,
    checkpoints: {
      root,
      restore: { ...restorePlanFrom(latest.metadata, latest.dir), maxParallelism: latest.metadata.maxParallelism },
      firstId,
      retained: [...result.older, latest.metadata.id],
    },
    skippedIds,
  };
};
