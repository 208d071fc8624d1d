/**
 * Which process owns something on disk (a job lock, a run's working state), and whether that
 * process still runs. A pid alone is reused by the system; on Linux the process's start time
 * (from /proc/<pid>/stat) tells a reused pid from the original owner, so a folder of a dead run
 * is not kept forever just because its pid now belongs to someone else.
 *
 *   const me = await currentProcess();          // { pid: 4242, started: "1234567" }
 *   await isRunning(me);                          // true
 *   await isRunning({ pid: 4242 });               // pid only: kill(0) and not a zombie
 */
import { readFile } from "node:fs/promises";

export interface ProcessIdentity {
  readonly pid: number;
  /** Start time in clock ticks since boot (Linux); absent where /proc is not available. */
  readonly started?: string;
}

/** State and start time from /proc/<pid>/stat, or undefined without /proc. */
const procStat = async (pid: number): Promise<{ state: string; started: string } | undefined> => {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", started: fields[19] ?? "" };
};

export const currentProcess = async (): Promise<ProcessIdentity> => {
  const stat = await procStat(process.pid);
  return stat === undefined ? { pid: process.pid } : { pid: process.pid, started: stat.started };
};

/**
 * True if the process exists, is not a zombie (killed, not yet reaped by its parent) and, when
 * `started` is given and /proc can tell, started at that time (not a later process reusing the pid).
 */
export const isRunning = async (owner: ProcessIdentity): Promise<boolean> => {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = await procStat(owner.pid);
  if (stat === undefined) return true; // no /proc (not Linux): trust kill(0)
  if (stat.state === "Z") return false;
  return owner.started === undefined || owner.started === stat.started;
};
