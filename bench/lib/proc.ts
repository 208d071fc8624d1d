/**
 * CPU time and resident memory of a process tree, from Linux's /proc (the harness samples the
 * whole tree of a run every 200 ms). Pure parsers plus a small sampler.
 *
 *   const sampler = startProcSampler(child.pid, 200, [steadyStart, steadyEnd]);
 *   ... sampler.samples  // [{ atMs, cpuSeconds, rssBytes }] of the tree rooted at the pid
 *   sampler.stop();
 *
 * CPU of the tree = sum over its live processes of utime + stime + cutime + cstime (a child that
 * exited and was waited for is in its parent's cutime/cstime, so nothing is lost or counted
 * twice); RSS = sum of VmRSS. A process that exits between listing and reading is skipped.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  readonly ticks: number;
}

/** Parses /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export const parseProcStat = (text: string): ProcStat => {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, text.indexOf("(")).trim());
  // After ") ": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17); fields[0] is field 3.
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const field = (n: number) => Number(fields[n - 3]);
  const ticks = field(14) + field(15) + field(16) + field(17);
  if (!Number.isFinite(pid) || !Number.isFinite(ticks)) throw new Error(`unreadable /proc stat line: ${text.slice(0, 80)}`);
  return { pid, ppid: field(4), ticks };
};

/** VmRSS of /proc/<pid>/status, in bytes (0 when absent, e.g. a zombie). */
export const parseVmRssBytes = (status: string): number => {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m === null ? 0 : Number(m[1]) * 1024;
};

/** `root` and all its descendants, given every process's parent. */
export const treeOf = (root: number, parents: ReadonlyMap<number, number>): number[] => {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = parents.has(root) ? [root] : [];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out.sort((a, b) => a - b);
};

export interface ProcSample {
  readonly atMs: number;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

let clockTicks: number | undefined;
const ticksPerSecond = (): number => {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
};

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/** One sample of the tree rooted at `root`, or undefined once the root is gone. */
export const sampleTree = (root: number): ProcSample | undefined => {
  const atMs = Date.now();
  const stats = new Map<number, ProcStat>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const text = read(`/proc/${name}/stat`);
    if (text !== undefined) stats.set(Number(name), parseProcStat(text));
  }
  if (!stats.has(root)) return undefined;
  const pids = treeOf(root, new Map([...stats].map(([pid, s]) => [pid, s.ppid])));
  let ticks = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    ticks += stats.get(pid)!.ticks;
    rssBytes += parseVmRssBytes(read(`/proc/${pid}/status`) ?? "");
  }
  return { atMs, cpuSeconds: ticks / ticksPerSecond(), rssBytes };
};

export interface ProcSampler {
  readonly samples: ProcSample[];
  stop(): void;
}

/**
 * Samples the tree every `everyMs`, and also just after each of `at` (epoch ms: the steady
 * window's ends, so that a run that exits right after its window still has a sample at its end).
 */
export const startProcSampler = (root: number, everyMs = 200, at: readonly number[] = []): ProcSampler => {
  const samples: ProcSample[] = [];
  const tick = () => {
    const s = sampleTree(root);
    if (s !== undefined) {
      samples.push(s);
      samples.sort((a, b) => a.atMs - b.atMs);
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  const extra = at.map((t) => setTimeout(tick, Math.max(0, t + 2 - Date.now())));
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      for (const e of extra) clearTimeout(e);
    },
  };
};
