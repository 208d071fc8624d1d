/**
 * The highest completed checkpoint of a job's current lineage: `<root>/<job>/completed.json`,
 * `{ "id": n }`, written atomically after checkpoint n's `_metadata` and before any sink commits
 * for it. So whatever output a sink has committed, its checkpoint is at most this id, even when
 * the checkpoint's directory has since been deleted or set aside as corrupt. A run that restores
 * an older checkpoint compares with it to know whether later checkpoints may have committed
 * output. `--fresh` deletes it with the checkpoints (a new lineage starts at 1).
 *
 * Jobs whose checkpoints predate this record have none: `highestCompleted` therefore also counts
 * every checkpoint directory with a `_metadata` (including those set aside as `.corrupt`).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../common/write-file-atomic.ts";
import { highestCompletedCheckpointId, jobRoot } from "./storage.ts";
import { checkpointReadError } from "../state/snapshot.ts";
import { errnoOf } from "../common/path-errors.ts";

/** The record's file name in the job's checkpoint folder (also deleted by `--fresh`). */
export const COMPLETED_FILE = "completed.json";
const FILE = COMPLETED_FILE;

/** Records `id` as completed (the caller calls it with increasing ids). */
export const recordCompleted = (root: string, job: string, id: number): Promise<void> =>
  writeFileAtomic(join(jobRoot(root, job), FILE), JSON.stringify({ id }));

/**
 * The highest completed checkpoint: the greater of the record and of the highest checkpoint
 * directory with a `_metadata`; 0 if neither (a new job, or after `--fresh`). A read error other
 * than ENOENT is the retriable external error `CHECKPOINT_READ_FAILED` naming the path.
 */
export const highestCompleted = async (root: string, job: string): Promise<number> => {
  return Math.max(await recorded(root, job), await highestCompletedCheckpointId(root, job));
};

const recorded = async (root: string, job: string): Promise<number> => {
  const path = join(jobRoot(root, job), FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return 0;
    throw checkpointReadError(path, e);
  }
  try {
    const id = (JSON.parse(text) as { id?: unknown }).id;
    return typeof id === "number" && Number.isInteger(id) && id > 0 ? id : 0;
  } catch {
    return 0; // written atomically, so unreadable only if edited by hand
  }
};
