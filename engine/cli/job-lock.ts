/**
 * One running instance per job and checkpoint directory: `<root>/<job>/.lock` holds the pid of
 * the process running it. A second `weir run` of the same job is refused (two instances would
 * fight over the same checkpoints and output). A lock whose process is gone (it was killed) is
 * stale and taken over.
 */
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { userError } from "../../common/errors.ts";
import { makeDirectory, pathError } from "../../common/path-errors.ts";
import { jobRoot } from "../../checkpoint/storage.ts";
import { processAlive } from "./launcher-watch.ts";

export interface JobLock {
  release(): Promise<void>;
}

/** The checkpoint directory cannot be written: a user error naming it (see `pathError`). */
const unwritable = (action: "create" | "write to", path: string, e: unknown) =>
  pathError("CHECKPOINT_DIR_UNWRITABLE", `${action} the checkpoint directory`, path, e, "pass a writable --checkpoint-dir");

/**
 * Takes the job's lock, creating `<root>/<job>/` first. Fails with JOB_ALREADY_RUNNING, or with
 * CHECKPOINT_DIR_UNWRITABLE (a user error when the directory cannot be created or written).
 */
export const lockJob = async (root: string, job: string): Promise<JobLock> => {
  const dir = jobRoot(root, job);
  await makeDirectory(dir).catch((e: unknown) => {
    throw unwritable("create", dir, e);
  });
  const path = join(dir, ".lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw unwritable("write to", dir, e);
      const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && (await processAlive(pid))) {
        throw userError(
          "JOB_ALREADY_RUNNING",
          `job '${job}' is already running (pid ${pid}, lock ${path}); stop it first, or use another --checkpoint-dir`,
        );
      }
      await rm(path, { force: true }); // stale: its process is gone
    }
  }
  throw userError("JOB_LOCK_FAILED", `could not take the lock ${path} for job '${job}'`);
};
