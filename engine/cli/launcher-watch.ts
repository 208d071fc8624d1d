/**
 * `npx weir run ...` runs weir under npm: `npm exec` → `sh -c weir ...` → `node bin/weir.mjs`.
 * npm forwards SIGINT and SIGTERM to weir, but when npm itself is killed with SIGKILL (e.g.
 * `npx weir run ... & kill -9 $!`) weir used to keep running, orphaned. `watchLauncher` finds that
 * npm process and calls `onGone` once it (or weir's own parent) is gone, so `weir run` can stop
 * the way npm would have asked it to.
 *
 * Only an npm launcher is watched: weir started directly (`node bin/weir.mjs`, a test harness, a
 * service manager) is itself the process its starter controls, and keeps running on its own.
 * Linux only (reads /proc); elsewhere nothing is watched.
 */
import { readFile } from "node:fs/promises";
import { isRunning } from "../../common/process-identity.ts";

const parentOf = async (pid: number): Promise<number | undefined> => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (stat === undefined) return undefined;
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
};

const argvOf = async (pid: number): Promise<string[]> =>
  ((await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")) as string).split("\0").filter((a) => a !== "");

const isShell = (argv: readonly string[]) => /(^|\/)(sh|bash|dash)$/.test(argv[0] ?? "") && argv[1] === "-c";
/**
 * npm sets its process title to `npm exec ...` (`npx` is `npm exec`), which /proc shows as one
 * argument; before it does, it is `node .../npm-cli.js` or `.../npx-cli.js`.
 */
const isNpm = (argv: readonly string[]) =>
  /^(npm|npx)( |$)/.test(argv[0] ?? "") || argv.slice(0, 2).some((a) => /(^|\/)(npm|npx)(-cli\.js)?$/.test(a));

/** The npm process that launched this one (through at most two `sh -c` wrappers), or undefined. */
export const findNpmLauncher = async (): Promise<number | undefined> => {
  let pid: number | undefined = process.ppid;
  for (let depth = 0; pid !== undefined && pid > 1 && depth < 3; depth++) {
    const argv = await argvOf(pid);
    if (isNpm(argv)) return pid;
    if (!isShell(argv)) return undefined;
    pid = await parentOf(pid);
  }
  return undefined;
};

export interface LauncherWatch {
  stop(): void;
}

/**
 * Polls every `intervalMs` (the timer does not keep the process alive); calls `onGone(pid)` once
 * when the npm launcher `pid` is gone or weir's own parent changed (its parent died). Does nothing
 * when weir was not launched by npm.
 */
export const watchLauncher = async (onGone: (launcher: number) => void, intervalMs = 1_000): Promise<LauncherWatch> => {
  const launcher = await findNpmLauncher();
  if (launcher === undefined) return { stop: () => undefined };
  const parent = process.ppid;
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    void isRunning({ pid: launcher })
      .then((alive) => {
        if (!alive || process.ppid !== parent) {
          clearInterval(timer);
          onGone(launcher);
        }
      })
      .finally(() => (polling = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
};
