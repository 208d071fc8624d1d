/**
 * Chooses what a `weir run` starts from: the latest completed checkpoint of the job (skipping,
 * with a message, any that is partial or unreadable), a checkpoint given with `--from`, or
 * nothing (`--fresh` deletes the job's old checkpoints first, so a later resume can never pick
 * up the old lineage).
 */
import { readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { findLatest, jobRoot, checkpointPath, loadCheckpoint, listCheckpointIds, type FoundCheckpoint } from "../../checkpoint/storage.ts";
import { restorePlanFrom } from "../restore-plan.ts";
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
  if (options.fresh) {
    const names = await readdir(jobRoot(root, job)).catch(() => [] as string[]);
    for (const name of names) if (name !== ".lock" && name !== "runs") await rm(join(jobRoot(root, job), name), { recursive: true, force: true });
  }
  if (options.from !== undefined) {
    const found = await loadCheckpoint(root, options.from);
    const ids = await listCheckpointIds(root, job);
    return {
      found,
      checkpoints: {
        root,
        restore: { ...restorePlanFrom(found.metadata, found.dir), maxParallelism: found.metadata.maxParallelism },
        firstId: Math.max(found.metadata.id, ...ids) + 1,
        retained: [],
      },
    };
  }
  const result = await findLatest(root, job);
  for (const line of result.skipped) log(line);
  // Set partial and unreadable checkpoints above the latest aside: partial ones are deleted,
  // unreadable ones renamed to chk-<n>.corrupt for inspection.
  for (const id of result.allIds) {
    if (result.latest !== undefined && id <= result.latest.metadata.id) continue;
    const dir = checkpointPath(root, job, id);
    const partial = result.skipped.some((s) => s.startsWith(`checkpoint ${id} is partial`));
    if (partial) await rm(dir, { recursive: true, force: true });
    else await rename(dir, `${dir}.corrupt`).catch(() => rm(dir, { recursive: true, force: true }));
  }
  const latest = result.latest;
  const firstId = Math.max(0, ...result.allIds) + 1;
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
