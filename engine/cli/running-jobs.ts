/**
 * The jobs `weir run` processes are running on this machine, for `weir list|stop|cancel`: each
 * run with a REST server writes `<runtime dir>/<pid>.json` (its job, id, address, checkpoint
 * directory, token file) and removes it when it ends. A run killed with SIGKILL leaves its file:
 * an entry whose process is gone (or whose pid now belongs to a later process, told apart by its
 * start time) is not listed, and is removed by the next listing.
 *
 * The runtime directory is `$WEIR_RUNTIME_DIR`, or `weir-<uid>` in the system's temporary
 * directory, created 0700. Before an entry is written or read, the directory must be a real
 * directory owned by this user that nobody else may write or read (RUNTIME_DIR_NOT_PRIVATE
 * otherwise): another user who created it first could plant entries that send `weir stop`'s token
 * to a server of theirs, or symlinks that an entry write would follow.
 */
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { makeDirectory } from "../../common/path-errors.ts";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { currentProcess, isRunning, type ProcessIdentity } from "../../common/process-identity.ts";
import { userError } from "../../common/errors.ts";

export interface RunningJob {
  readonly process: ProcessIdentity;
  readonly job: string;
  /** The REST API's job id. */
  readonly id: string;
  /** `http://host:port` of its REST API. */
  readonly address: string;
  readonly checkpointDir: string;
  readonly startedAt: number;
  /** The file holding the token mutating calls need (only when the server listens beyond loopback). */
  readonly tokenFile?: string;
}

export const runtimeDir = (): string => process.env["WEIR_RUNTIME_DIR"] ?? join(tmpdir(), `weir-${userInfo().uid}`);

/** Throws RUNTIME_DIR_NOT_PRIVATE unless `dir` is a directory of this user's that only they can use. */
const checkPrivate = async (dir: string): Promise<void> => {
  const s = await lstat(dir);
  const uid = process.getuid?.();
  if (!s.isDirectory() || (uid !== undefined && s.uid !== uid) || (s.mode & 0o077) !== 0) {
    throw userError(
      "RUNTIME_DIR_NOT_PRIVATE",
      `${dir} must be a directory owned by you with mode 0700 (it is ${s.isDirectory() ? `owned by uid ${s.uid}, mode ${(s.mode & 0o777).toString(8)}` : "not a directory"}); remove it, or set WEIR_RUNTIME_DIR to a private directory`,
    );
  }
};

/** Registers this process's job; the returned function removes the entry (idempotent). */
export const registerRunningJob = async (entry: Omit<RunningJob, "process">): Promise<() => Promise<void>> => {
  const dir = runtimeDir();
  await makeDirectory(dirname(dir));
  await mkdir(dir, { mode: 0o700 }).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  });
  await checkPrivate(dir);
  const me = await currentProcess();
  const path = join(dir, `${me.pid}.json`);
  const temporary = `${path}.tmp`;
  await rm(temporary, { force: true });
  await writeFile(temporary, `${JSON.stringify({ ...entry, process: me })}\n`, { mode: 0o600, flag: "wx" });
  await rename(temporary, path);
  let removed = false;
  return async () => {
    if (removed) return;
    removed = true;
    await rm(path, { force: true });
  };
};

const parse = (text: string): RunningJob | undefined => {
  try {
    const e = JSON.parse(text) as Partial<RunningJob>;
    if (typeof e.job !== "string" || typeof e.id !== "string" || typeof e.address !== "string" || typeof e.process?.pid !== "number") return undefined;
    return e as RunningJob;
  } catch {
    return undefined;
  }
};

/** The jobs running now, oldest first; entries of ended processes are removed on the way. */
export const listRunningJobs = async (): Promise<RunningJob[]> => {
  const dir = runtimeDir();
  const names = await readdir(dir).catch(() => undefined);
  if (names === undefined) return [];
  await checkPrivate(dir);
  const jobs: RunningJob[] = [];
  for (const name of names) {
    if (!/^\d+\.json$/.test(name)) continue;
    const path = join(dir, name);
    const entry = parse(await readFile(path, "utf8").catch(() => ""));
    if (entry !== undefined && (await isRunning(entry.process))) jobs.push(entry);
    else await rm(path, { force: true }).catch(() => undefined);
  }
  return jobs.sort((a, b) => a.startedAt - b.startedAt);
};
