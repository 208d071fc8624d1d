/**
 * The highest completed checkpoint of a job's current lineage: `<root>/<job>/completed.json`,
 * `{ "id": n }`, written atomically after checkpoint n's `_metadata` and before any sink commits
 * for it. So whatever output a sink has committed, its checkpoint is at most this id, even when
 * the checkpoint's directory has since been deleted or set aside as corrupt. A run that restores
 * an older checkpoint compares with it to know whether later checkpoints may have committed
 * output. `--fresh` deletes it with the checkpoints (a new lineage starts at 1).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../common/write-file-atomic.ts";
import { jobRoot } from "./storage.ts";

const FILE = "completed.json";

/** Records `id` as completed (the caller calls it with increasing ids). */
export const recordCompleted = (root: string, job: string, id: number): Promise<void> =>
  writeFileAtomic(join(jobRoot(root, job), FILE), JSON.stringify({ id }));

/** The highest completed checkpoint recorded, 0 if none (a new job, or after `--fresh`). */
export const highestCompleted = async (root: string, job: string): Promise<number> => {
  const text = await readFile(join(jobRoot(root, job), FILE), "utf8").catch(() => undefined);
  if (text === undefined) return 0;
  try {
    const id = (JSON.parse(text) as { id?: unknown }).id;
    return typeof id === "number" && Number.isInteger(id) && id > 0 ? id : 0;
  } catch {
    return 0; // written atomically, so unreadable only if edited by hand
  }
};
