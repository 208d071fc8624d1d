/**
 * Runs `weir` as a real child process, for crash tests: start it, kill it with SIGKILL at a
 * chosen moment, restart it until it exits 0, and read the committed output.
 */
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "../..");

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly killedByUs: boolean;
}

export interface WeirRun {
  readonly pid: number;
  readonly exited: Promise<Exit>;
  /** What it wrote to stderr so far. */
  stderr(): string;
  kill(): void;
}

/** `cwd` (default the repository) is where relative paths and the default `.weir/` resolve. */
export const startWeir = (args: readonly string[], env: Record<string, string> = {}, options: { cwd?: string } = {}): WeirRun => {
  const child = spawn(process.execPath, [join(repoRoot, "bin/weir.mjs"), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: "1", WEIR_FAILPOINT: "", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  let killedByUs = false;
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((done) =>
    child.on("exit", (code, signal) => done({ code, signal, stderr, killedByUs })),
  );
  return {
    pid: child.pid!,
    exited,
    stderr: () => stderr,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) {
        killedByUs = true;
        child.kill("SIGKILL");
      }
    },
  };
};

/** Runs to the end, or kills it after `killAfterMs` (if still running). */
export const runOrKill = async (
  args: readonly string[],
  killAfterMs?: number,
  env?: Record<string, string>,
  options?: { cwd?: string },
): Promise<Exit> => {
  const run = startWeir(args, env, options);
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => run.kill(), killAfterMs);
  const exit = await run.exited;
  if (timer !== undefined) clearTimeout(timer);
  return exit;
};

/** Part files in the order they were written: by run (run ids grow with time), then part number, then subtask. */
const partOrder = (a: string, b: string): number => {
  const parse = (n: string) => {
    const m = /^part-([0-9a-z]+)-(\d+)-(\d+)(?:-chk\d+)?\.jsonl$/.exec(n);
    if (m === null) throw new Error(`unexpected file in output: ${n}`);
    return { run: m[1]!, subtask: Number(m[2]), n: Number(m[3]) };
  };
  const x = parse(a);
  const y = parse(b);
  return x.run.length - y.run.length || x.run.localeCompare(y.run) || x.n - y.n || x.subtask - y.subtask;
};

/** Runs until `ready()` is true (polled every 20 ms), then kills it; or until it exits. */
export const runUntil = async (args: readonly string[], ready: () => Promise<boolean>, env?: Record<string, string>): Promise<Exit> => {
  const run = startWeir(args, env);
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (!exited && !(await ready())) await new Promise((r) => setTimeout(r, 20));
  run.kill();
  return run.exited;
};

/** True once some checkpoint of `job` under `root` is complete. */
export const hasCompletedCheckpoint = (root: string, job: string) => async (): Promise<boolean> => {
  const names = await readdir(join(root, job)).catch(() => [] as string[]);
  for (const n of names) {
    if ((await readdir(join(root, job, n)).catch(() => [] as string[])).includes("_metadata")) return true;
  }
  return false;
};

/** Ids of the completed checkpoints (with a `_metadata`) of `job` under `root`, ascending. */
export const completedCheckpointIds = async (root: string, job: string): Promise<number[]> => {
  const ids: number[] = [];
  for (const name of await readdir(join(root, job)).catch(() => [] as string[])) {
    const m = /^chk-(\d+)$/.exec(name);
    if (m === null) continue;
    if ((await readdir(join(root, job, name)).catch(() => [] as string[])).includes("_metadata")) ids.push(Number(m[1]));
  }
  return ids.sort((a, b) => a - b);
};

/** Committed output: the lines of every file in `dir` whose name does not start with a dot, in write order. */
export const committedLines = async (dir: string): Promise<string[]> => {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const lines: string[] = [];
  for (const name of names.filter((n) => !n.startsWith(".")).sort(partOrder)) {
    for (const line of (await readFile(join(dir, name), "utf8")).split("\n")) if (line !== "") lines.push(line);
  }
  return lines;
};

/** Hidden files left in an output directory (lingering transactions). */
export const hiddenFiles = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith("."));

/** Groups JSON lines by a key field, keeping file order (per-key order within one part file sequence). */
export const sequencesBy = (lines: readonly string[], key: string): Map<string, unknown[]> => {
  const out = new Map<string, unknown[]>();
  for (const line of lines) {
    const record = JSON.parse(line) as Record<string, unknown>;
    const k = JSON.stringify(record[key]);
    const list = out.get(k) ?? [];
    list.push(record);
    out.set(k, list);
  }
  return out;
};

/**
 * `weir run` arguments for the account-totals job as the recovery tests use it: 30,000 events
 * over 200 accounts at 15,000 events/s (about 2 s), checkpoints every 200 ms, no progress line.
 */
export const accountTotalsArgs = (out: string, checkpoints: string, extra: readonly string[] = [], jobFile = "jobs/account-totals.ts"): string[] => [
  "run",
  jobFile,
  "--param",
  "events=30000",
  "--param",
  "accounts=200",
  "--param",
  "rate=15000",
  "--param",
  `out=${out}`,
  "--checkpoint-dir",
  checkpoints,
  "--checkpoint-interval",
  "200ms",
  "--no-progress",
  ...extra,
];
