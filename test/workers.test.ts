/**
 * Subtasks on worker threads (`--workers W`), as a user meets them through `weir run`: the same
 * committed output at any parallelism and worker count (and with --workers 0, the single-loop
 * runtime); exactly once across SIGKILL with a resume at another worker count; a user error in a
 * worker keeps its code and is not retried; a worker thread that dies fails the attempt and the
 * restart resumes from the latest checkpoint; SIGTERM stops every worker at one checkpoint; and
 * backpressure across threads keeps memory bounded under a slow sink.
 */
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accountTotalsArgs,
  committedLines,
  hasCompletedCheckpoint,
  hiddenFiles,
  runOrKill,
  runUntil,
  sequencesBy,
  startWeir,
} from "./support/weir-process.ts";

let tmp: string;
let expected: string[];
let runs = 0;

const fresh = (label: string) => {
  const n = ++runs;
  return { out: join(tmp, `${label}-${n}`), chk: join(tmp, `${label}-${n}-chk`) };
};

const expectSameOutput = (got: readonly string[], want: readonly string[]) => {
  expect(got.length, "records committed").toBe(want.length);
  expect([...got].sort()).toEqual([...want].sort());
  expect(sequencesBy(got, "account")).toEqual(sequencesBy(want, "account"));
};

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-workers-"));
  const { out, chk } = fresh("expected");
  const exit = await runOrKill(accountTotalsArgs(out, chk, ["--checkpoint-interval", "off", "--workers", "0", "--param", "rate=1000000"]));
  expect(exit.code, exit.stderr).toBe(0);
  expected = await committedLines(out);
  expect(expected.length).toBe(30_000);
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("weir run --workers", () => {
  it.each([
    [1, 1],
    [2, 1],
    [2, 2],
    [3, 2],
    [3, 3],
  ])("commits the single-loop output at parallelism %i on %i worker threads", async (parallelism, workers) => {
    const { out, chk } = fresh(`p${parallelism}w${workers}`);
    const exit = await runOrKill(accountTotalsArgs(out, chk, ["--parallelism", String(parallelism), "--workers", String(workers), "--param", "rate=1000000"]));
    expect(exit.code, exit.stderr).toBe(0);
    expectSameOutput(await committedLines(out), expected);
    expect(await hiddenFiles(out)).toEqual([]);
  }, 60_000);

  it("is exactly once across SIGKILL on 2 workers, resumed on 1 worker and then on the main thread at another parallelism", async () => {
    const { out, chk } = fresh("killed");
    const args = (extra: string[]) => accountTotalsArgs(out, chk, extra);
    const killed = await runUntil(args(["--parallelism", "2", "--workers", "2"]), hasCompletedCheckpoint(chk, "account-totals"));
    expect(killed.killedByUs, killed.stderr).toBe(true);
    const again = await runOrKill(args(["--parallelism", "2", "--workers", "1"]), 900);
    expect(again.code === 0 || again.killedByUs, again.stderr).toBe(true);
    const last = await runOrKill(args(["--parallelism", "3", "--workers", "0"]));
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toMatch(/resuming 'account-totals' from checkpoint \d+/);
    expectSameOutput(await committedLines(out), expected);
    expect(await hiddenFiles(out)).toEqual([]);
  }, 90_000);

  it("fails on a user error in a worker with its code, operator and job file, without restarting", async () => {
    const exit = await runOrKill(["run", "test/fixtures/throwing-job.ts", "--parallelism", "2", "--workers", "2", "--checkpoint-dir", join(tmp, "throwing-chk"), "--no-progress"]);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain("operator 'explode-on-seven' threw on record 7");
    expect(exit.stderr).toContain("[job test/fixtures/throwing-job.ts]");
    expect(exit.stderr).toContain("(USER_FUNCTION_FAILED)");
    expect(exit.stderr).not.toContain("restarting");
  }, 60_000);

  it("refuses a job that builds another graph on a worker thread, naming the file and --workers 0; --workers 0 runs it", async () => {
    const args = ["run", "test/fixtures/thread-dependent-job.ts", "--parallelism", "2", "--checkpoint-dir", join(tmp, "thread-dependent-chk"), "--no-progress"];
    const refused = await runOrKill([...args, "--workers", "2"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("built a different graph in worker thread");
    expect(refused.stderr).toContain("job file test/fixtures/thread-dependent-job.ts built a different graph");
    expect(refused.stderr).toContain("--workers 0");
    expect(refused.stderr).toContain("(WORKER_PLAN_DIFFERS)");
    expect(refused.stderr).not.toContain("restarting");
    const single = await runOrKill([...args, "--workers", "0"]);
    expect(single.code, single.stderr).toBe(0);
  }, 60_000);

  it("restarts from the latest checkpoint when a worker thread dies, and commits exactly once", async () => {
    const base = ["run", "test/fixtures/dying-worker-job.ts", "--parallelism", "2", "--checkpoint-interval", "200ms", "--no-progress"];
    const straight = fresh("dying-expected");
    const ok = await runOrKill([...base, "--workers", "0", "--param", `out=${straight.out}`, "--checkpoint-dir", straight.chk]);
    expect(ok.code, ok.stderr).toBe(0);
    const want = await committedLines(straight.out);
    const { out, chk } = fresh("dying");
    const marker = join(tmp, "dying-marker");
    const exit = await runOrKill([...base, "--workers", "2", "--restart-delay", "100ms", "--param", `out=${out}`, "--param", `marker=${marker}`, "--checkpoint-dir", chk]);
    expect(exit.code, exit.stderr).toBe(0);
    expect(await readFile(marker, "utf8")).toBe("died");
    expect(exit.stderr).toMatch(/worker thread \d exited \(code 3\) while the job ran \(WORKER_EXITED\); restarting from the latest checkpoint/);
    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...want].sort());
    expect(sequencesBy(got, "key")).toEqual(sequencesBy(want, "key"));
  }, 90_000);

  it("stops every worker at one checkpoint on SIGTERM; the same command resumes and completes exactly once", async () => {
    const { out, chk } = fresh("sigterm");
    const args = accountTotalsArgs(out, chk, ["--parallelism", "2", "--workers", "2"]);
    const run = startWeir(args);
    const ready = hasCompletedCheckpoint(chk, "account-totals");
    while (!(await ready())) await new Promise((r) => setTimeout(r, 20));
    process.kill(run.pid, "SIGTERM");
    const stopped = await run.exited;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toMatch(/stopped after .* at checkpoint \d+/);
    const partial = await committedLines(out);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(expected.length);
    const resumed = await runOrKill(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expectSameOutput(await committedLines(out), expected);
  }, 60_000);

  it("holds a fast source back behind a slow sink across threads: memory stays far below what the source generates", async () => {
    // 240,000 records of 8,000 bytes (1.9 GB) from a source that makes them far faster than the
    // sink takes them (40,000 records/s per subtask): without backpressure they would pile up.
    // (The peak, ~450 MiB here, is the three V8 heaps' garbage; it is the same at 30,000 records.)
    const run = startWeir([
      "run",
      "test/fixtures/slow-sink-job.ts",
      "--parallelism",
      "2",
      "--workers",
      "2",
      "--param",
      "events=240000",
      "--param",
      "usPerRecord=25",
      "--checkpoint-dir",
      join(tmp, "slow-chk"),
      "--no-progress",
    ]);
    let peakKb = 0;
    let exited = false;
    void run.exited.then(() => (exited = true));
    while (!exited) {
      const status = await readFile(`/proc/${run.pid}/status`, "utf8").catch(() => "");
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status); // the peak so far
      if (hwm !== null) peakKb = Math.max(peakKb, Number(hwm[1]));
      await new Promise((r) => setTimeout(r, 50));
    }
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain("240000 records read, 240000 written");
    console.log(`slow sink: peak RSS ${Math.round(peakKb / 1024)} MiB`);
    expect(peakKb / 1024, "peak RSS in MiB").toBeGreaterThan(0);
    expect(peakKb / 1024, "peak RSS in MiB").toBeLessThan(800);
  }, 60_000);
});
