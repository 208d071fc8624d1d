/**
 * The working-state folder of a run (RocksDB working copies, restore scratch space), and the
 * removal of folders whose run is dead.
 *
 *   .weir/<job>/state/<runId>/                 one folder per run (default)
 *   .weir/<job>/state/<runId>/.weir-owner.json { pid, started, job, runId } of the process using it
 *
 * A run's folder is removed when the run ends (runtime), but a killed run cannot remove its own.
 * So each folder names its owner process, and a run starting under the default root removes
 * every folder there whose owner no longer runs (and folders without an owner: left by Weir
 * versions before owners were recorded). Folders of live runs stay, whatever checkpoint
 * directory those runs use: the job lock covers one checkpoint directory only, the owner covers
 * the folder. A folder is created under a temporary name and renamed once its owner file is in,
 * so no other run ever sees it without its owner.
 *
 * With an explicit `--state-dir`, that directory is the run's folder: a dead run's folder is
 * wiped and reused, a live run's is refused (STATE_DIR_IN_USE), and a non-empty directory Weir
 * did not create is refused (STATE_DIR_NOT_EMPTY) rather than deleted.
 */
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { userError } from "../common/errors.ts";
import { makeDirectory, pathError } from "../common/path-errors.ts";
import { currentProcess, isRunning, type ProcessIdentity } from "../common/process-identity.ts";

const OWNER = ".weir-owner.json";
const CLAIMING = /^\.claiming-.*-(\d+)$/;

interface Owner extends ProcessIdentity {
  readonly job: string;
  readonly runId: string;
}

/** The default root of a job's run folders, relative to the working directory. */
export const defaultStateRoot = (job: string): string => join(".weir", job, "state");

const readOwner = async (folder: string): Promise<Owner | undefined> => {
  try {
    const owner = JSON.parse(await readFile(join(folder, OWNER), "utf8")) as Owner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
};

/** Removes every run folder under `root` whose owner is dead; returns the names removed. */
export const removeDeadRunFolders = async (root: string): Promise<string[]> => {
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const claiming = CLAIMING.exec(name);
    const owner = claiming === null ? await readOwner(join(root, name)) : { pid: Number(claiming[1]) };
    if (owner !== undefined && (await isRunning(owner))) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
};

/** The working state cannot be created there: a user error naming it (see `pathError`). */
const unwritable = (path: string, e: unknown) => pathError("STATE_DIR_UNWRITABLE", "create the state directory", path, e, "pass a writable --state-dir");

export interface ClaimOptions {
  readonly job: string;
  readonly runId: string;
  /** An explicit folder (`--state-dir`); default: `<defaultStateRoot(job)>/<runId>`. */
  readonly dir?: string;
  readonly log?: (line: string) => void;
}

/**
 * Makes the run's folder exist, empty but for its owner file, and returns its path. Called once
 * per run before any state is opened; the caller removes the folder when the run ends, and only
 * after a successful claim (a refused folder belongs to someone else).
 */
export const claimRunFolder = async (options: ClaimOptions): Promise<string> => {
  const { job, runId } = options;
  const owner: Owner = { ...(await currentProcess()), job, runId };
  if (options.dir === undefined) {
    const root = defaultStateRoot(job);
    const removed = await removeDeadRunFolders(root);
    if (removed.length > 0) options.log?.(`removed the working state of ${removed.length} ended run(s) of '${job}' from ${root}`);
    const folder = join(root, runId);
    const claiming = join(root, `.claiming-${runId}-${process.pid}`);
    await makeDirectory(claiming).catch((e: unknown) => {
      throw unwritable(root, e);
    });
    await writeFile(join(claiming, OWNER), JSON.stringify(owner));
    await rename(claiming, folder);
    return folder;
  }
  const folder = options.dir;
  const names = await readdir(folder).catch(() => [] as string[]);
  if (names.length > 0) {
    const previous = await readOwner(folder);
    if (previous === undefined) {
      throw userError(
        "STATE_DIR_NOT_EMPTY",
        `--state-dir ${folder} is not empty and holds no weir run's state: give an empty or new directory (weir deletes it when the run ends)`,
      );
    }
    if (await isRunning(previous)) {
      throw userError(
        "STATE_DIR_IN_USE",
        `--state-dir ${folder} is in use by run ${previous.runId} of job '${previous.job}' (pid ${previous.pid}): give each running job its own --state-dir`,
      );
    }
    await rm(folder, { recursive: true, force: true });
    options.log?.(`removed the working state of ended run ${previous.runId} of '${previous.job}' from ${folder}`);
  }
  await makeDirectory(folder).catch((e: unknown) => {
    throw unwritable(folder, e);
  });
  await writeFile(join(folder, OWNER), JSON.stringify(owner));
  return folder;
};
