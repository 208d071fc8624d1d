/**
 * Local working state of runs that ended by SIGKILL: `weir run` removes it once its run is known
 * dead (its owner process is gone), and never touches the folder of a live run, even one of the
 * same job with another checkpoint directory. Every run here works in its own directory, so the
 * default `.weir/<job>/state/` is this test's alone.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, repoRoot, runOrKill, sequencesBy, startWeir, type WeirRun } from "./support/weir-process.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-state-cleanup-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const args = (out: string, checkpoints: string, events: number, extra: string[] = [], rate = 15_000) => [
  "run",
  join(repoRoot, "jobs/account-totals.ts"),
  "--param",
  `events=${events}`,
  "--param",
  "accounts=200",
  "--param",
  `rate=${rate}`,
  "--param",
  `out=${out}`,
  "--checkpoint-dir",
  checkpoints,
  "--checkpoint-interval",
  "200ms",
  "--restart-attempts",
  "0",
  "--no-progress",
  ...extra,
];

const completedIds = async (checkpoints: string): Promise<number[]> => {
  const dir = join(checkpoints, "account-totals");
  const ids: number[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!/^chk-\d+$/.test(name)) continue;
    if ((await readdir(join(dir, name)).catch(() => [] as string[])).includes("_metadata")) ids.push(Number(name.slice(4)));
  }
  return ids;
};

/** Waits until `run` has completed a checkpoint above `above` (so it is past its start-up), or exits. */
const checkpointedBeyond = async (run: WeirRun, checkpoints: string, above: number): Promise<number> => {
  let exited = false;
  void run.exited.then(() => (exited = true));
  for (;;) {
    const top = Math.max(0, ...(await completedIds(checkpoints)));
    if (top > above) return top;
    if (exited) throw new Error(`the run exited before checkpoint ${above + 1}: ${(await run.exited).stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const stateFolders = async (cwd: string) => readdir(join(cwd, ".weir", "account-totals", "state")).catch(() => [] as string[]);
const ownerPid = async (folder: string) => (JSON.parse(await readFile(join(folder, ".weir-owner.json"), "utf8")) as { pid: number }).pid;

const straight = async (name: string, events: number) => {
  const out = join(tmp, `${name}-expected`);
  const exit = await runOrKill(args(out, join(tmp, `${name}-expected-chk`), events), undefined, undefined, { cwd: tmp });
  expect(exit.code, exit.stderr).toBe(0);
  return committedLines(out);
};

describe("weir run: working state of ended runs", () => {
  it("crash/resume cycles with SIGKILL leave only the live run's folder, and none once the job finishes", async () => {
    const expected = await straight("cycles", 60_000);
    const cwd = join(tmp, "cycles-cwd");
    await mkdir(cwd);
    const out = join(tmp, "cycles");
    const checkpoints = join(tmp, "cycles-chk");
    let top = 0;
    const seen: string[] = [];
    const pids: number[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      const run = startWeir(args(out, checkpoints, 60_000), {}, { cwd });
      top = await checkpointedBeyond(run, checkpoints, top);
      const folders = await stateFolders(cwd);
      expect(folders, `cycle ${cycle}`).toHaveLength(1);
      expect(seen).not.toContain(folders[0]); // the live run's own, not a killed one's
      seen.push(folders[0]!);
      pids.push(run.pid);
      run.kill();
      expect((await run.exited).signal).toBe("SIGKILL");
    }
    // The last killed run's folder, which nobody has removed yet, names its owner.
    expect(await stateFolders(cwd)).toEqual([seen[2]]);
    expect(await ownerPid(join(cwd, ".weir", "account-totals", "state", seen[2]!))).toBe(pids[2]);
    const last = await runOrKill(args(out, checkpoints, 60_000), undefined, undefined, { cwd });
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toContain("removed the working state of 1 ended run(s) of 'account-totals'");
    expect(await stateFolders(cwd)).toEqual([]);
    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...expected].sort());
    expect(sequencesBy(got, "account")).toEqual(sequencesBy(expected, "account"));
  }, 180_000);

  it("a run of the same job with another checkpoint directory leaves a live run's folder alone", async () => {
    const expected = await straight("live", 60_000);
    const cwd = join(tmp, "live-cwd");
    await mkdir(cwd);
    const out = join(tmp, "live");
    // Slow (~20 s), so that it surely runs throughout what follows; checked below.
    const first = startWeir(args(out, join(tmp, "live-chk-a"), 60_000, [], 3_000), {}, { cwd });
    let firstExited = false;
    void first.exited.then(() => (firstExited = true));
    await checkpointedBeyond(first, join(tmp, "live-chk-a"), 0);
    const [firstFolder] = await stateFolders(cwd);
    // A second run of the job in the same directory, killed, then a third that starts after it.
    const second = startWeir(args(join(tmp, "live-b"), join(tmp, "live-chk-b"), 60_000), {}, { cwd });
    await checkpointedBeyond(second, join(tmp, "live-chk-b"), 0);
    second.kill();
    await second.exited;
    const third = startWeir(args(join(tmp, "live-b"), join(tmp, "live-chk-b"), 60_000), {}, { cwd });
    await checkpointedBeyond(third, join(tmp, "live-chk-b"), Math.max(...(await completedIds(join(tmp, "live-chk-b")))));
    const folders = await stateFolders(cwd);
    expect(firstExited).toBe(false);
    expect(folders).toHaveLength(2); // the first run's and the third's; the second's is removed
    expect(folders).toContain(firstFolder);
    third.kill();
    await third.exited;
    const done = await first.exited;
    expect(done.code, done.stderr).toBe(0);
    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...expected].sort());
  }, 180_000);

  it("--state-dir: a killed run's folder is wiped and reused by the resumed run; a live run's is refused", async () => {
    const expected = await straight("given", 60_000);
    const out = join(tmp, "given");
    const checkpoints = join(tmp, "given-chk");
    const stateDir = join(tmp, "given-state");
    // Slow (~20 s), so that it surely still runs when the second run tries its --state-dir.
    const run = startWeir(args(out, checkpoints, 60_000, ["--state-dir", stateDir], 3_000), {}, { cwd: tmp });
    await checkpointedBeyond(run, checkpoints, 0);
    const other = await runOrKill(args(join(tmp, "given-other"), join(tmp, "given-other-chk"), 1000, ["--state-dir", stateDir]), undefined, undefined, { cwd: tmp });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`--state-dir ${stateDir} is in use by run`);
    expect(other.stderr).toContain("STATE_DIR_IN_USE");
    run.kill();
    await run.exited;
    const resumed = await runOrKill(args(out, checkpoints, 60_000, ["--state-dir", stateDir]), undefined, undefined, { cwd: tmp });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming 'account-totals' from checkpoint \d+/);
    expect(await readdir(stateDir).catch(() => "gone")).toBe("gone");
    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...expected].sort());
    expect(sequencesBy(got, "account")).toEqual(sequencesBy(expected, "account"));
  }, 180_000);
});
