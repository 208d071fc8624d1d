/**
 * One running instance per job and checkpoint directory: `<root>/<job>/.lock` holds the pid of
 * the process running it. A second `weir run` of the same job is refused (two instances would
 * fight over the same checkpoints and output). A lock whose process is gone (it was killed) is
 * stale and taken over.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describeError, userError } from "../../common/errors.ts";
import { takePidLock } from "../../common/pid-lock.ts";
import { jobRoot } from "../../checkpoint/storage.ts";

export interface JobLock {
  release(): Promise<void>;
}

export const lockJob = async (root: string, job: string): Promise<JobLock> => {
  const dir = jobRoot(root, job);
  await mkdir(dir, { recursive: true });
  const path = join(dir, ".lock");
  let result;
  try {
    result = await takePidLock(path);
  } catch (e) {
    throw userError("JOB_LOCK_FAILED", `could not take the lock ${path} for job '${job}': ${describeError(e)}`);
  }
  if (result.kind === "held") {
    throw userError(
      "JOB_ALREADY_RUNNING",
      `job '${job}' is already running (pid ${result.holder.pid}, lock ${path}); stop it first (SIGINT or SIGTERM stops it with a final checkpoint). Do not start a second run with another --checkpoint-dir: both would write the job's sinks, and its output would be written twice`,
    );
  }
  return result;
};
