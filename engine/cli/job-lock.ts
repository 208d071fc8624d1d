/**
 * One running instance per job and checkpoint directory: `<root>/<job>/.lock` holds the pid of
 * the process running it. A second `weir run` of the same job is refused (two instances would
 * fight over the same checkpoints and output). A lock whose process is gone (it was killed) is
 * stale and taken over.
 */
import { join } from "node:path";
import { userError } from "../../common/errors.ts";
import { makeDirectory, pathError } from "../../common/path-errors.ts";
import { takePidLock } from "../../common/pid-lock.ts";
import { jobRoot } from "../../checkpoint/storage.ts";

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
  let result;
  try {
    result = await takePidLock(path);
  } catch (e) {
    throw unwritable("write to", dir, e);
  }
  if (result.kind === "held") {
    throw userError(
      "JOB_ALREADY_RUNNING",
      `job '${job}' is already running (pid ${result.holder.pid}, lock ${path}); stop it first (SIGINT or SIGTERM stops it with a final checkpoint). Do not start a second run with another --checkpoint-dir: both would write the job's sinks, and its output would be written twice`,
    );
  }
  return result;
};
