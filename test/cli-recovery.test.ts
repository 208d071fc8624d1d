/**
 * Recovery as a user meets it through `weir run`: SIGTERM stops with a checkpoint and the same
 * command resumes; a failure inside the process restarts from the latest checkpoint; a corrupt
 * latest checkpoint is skipped with a message; a finished job is not run twice; and
 * `weir checkpoints list|inspect` show what can be resumed.
 */
import { mkdtemp, readFile, rm, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, hasCompletedCheckpoint, hiddenFiles, repoRoot, runOrKill, sequencesBy, startWeir, accountTotalsArgs } from "./support/weir-process.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-cli-recovery-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const totalsArgs = accountTotalsArgs;

const straight = async (name: string, args: (out: string, chk: string) => string[]) => {
  const out = join(tmp, `${name}-expected`);
  const exit = await runOrKill(args(out, join(tmp, `${name}-expected-chk`)));
  expect(exit.code, exit.stderr).toBe(0);
  return committedLines(out);
};

const cli = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
    execFile(process.execPath, ["bin/weir.mjs", ...args], { cwd: repoRoot }, (error, stdout, stderr) =>
      done({ code: error === null ? 0 : (error.code as number), stdout, stderr }),
    ),
  );

describe("weir run: recovery", () => {
  it("SIGTERM stops with a final checkpoint (exit 0); the same command resumes and completes exactly once", async () => {
    const expected = await straight("sigterm", (o, c) => totalsArgs(o, c, ["--checkpoint-interval", "off"]));
    const out = join(tmp, "sigterm");
    const checkpoints = join(tmp, "sigterm-chk");
    const run = startWeir(totalsArgs(out, checkpoints));
    const ready = hasCompletedCheckpoint(checkpoints, "account-totals");
    while (!(await ready())) await new Promise((r) => setTimeout(r, 20));
    process.kill(run.pid, "SIGTERM");
    const stopped = await run.exited;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toMatch(/stopped after .* at checkpoint \d+: run the same command again to resume/);
    const partial = await committedLines(out);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(expected.length);
    expect(await hiddenFiles(out)).toEqual([]);
    const resumed = await runOrKill(totalsArgs(out, checkpoints));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming 'account-totals' from checkpoint \d+/);
    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...expected].sort());
    expect(sequencesBy(got, "account")).toEqual(sequencesBy(expected, "account"));
  }, 60_000);

  it("refuses a second concurrent run of the same job; a killed run's lock is taken over", async () => {
    const out = join(tmp, "locked");
    const checkpoints = join(tmp, "locked-chk");
    // A long run (~13 s), so that it is surely still running when the second one starts.
    const first = startWeir(totalsArgs(out, checkpoints, ["--param", "events=200000"]));
    const ready = hasCompletedCheckpoint(checkpoints, "account-totals");
    while (!(await ready())) await new Promise((r) => setTimeout(r, 20));
    const second = await runOrKill(totalsArgs(join(tmp, "locked-2"), checkpoints));
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toContain(`job 'account-totals' is already running (pid ${first.pid}`);
    expect(second.stderr).toContain("JOB_ALREADY_RUNNING");
    first.kill();
    await first.exited;
    const third = await runOrKill(totalsArgs(out, checkpoints, ["--param", "events=200000", "--param", "rate=100000"]));
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toMatch(/resuming 'account-totals' from checkpoint \d+/);
  }, 60_000);

  it("restarts from the latest checkpoint after a retriable failure, and the output is exactly once", async () => {
    const args = (out: string, chk: string, marker: string) => [
      "run",
      "test/fixtures/flaky-job.ts",
      "--param",
      `out=${out}`,
      "--param",
      `marker=${marker}`,
      "--checkpoint-dir",
      chk,
      "--checkpoint-interval",
      "100ms",
      "--restart-delay",
      "100ms",
      "--no-progress",
      "--parallelism",
      "2",
    ];
    const marker = join(tmp, "flaky-marker");
    const donePath = join(tmp, "flaky-done");
    await writeFile(donePath, "1000000"); // failures counted so far: more than enough, never fails
    const expected = await straight("flaky", (o, c) => args(o, c, donePath));
    const out = join(tmp, "flaky");
    const checkpoints = join(tmp, "flaky-chk");
    const exit = await runOrKill([...args(out, checkpoints, marker), "--param", `after-checkpoint-in=${join(checkpoints, "flaky")}`]);
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toMatch(/the flaky source failed \(on purpose\).*restarting from the latest checkpoint in 100ms \(restart 1\)/);
    expect(exit.stderr).toMatch(/resuming 'flaky' from checkpoint \d+/);
    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...expected].sort());
    expect(sequencesBy(got, "key")).toEqual(sequencesBy(expected, "key"));
  }, 60_000);

  it("by default keeps restarting after retriable failures, each delay 1.5 times the one before, and the output is exactly once", async () => {
    // Five failures in a row: more than the old default budget (3 attempts 1 s apart) allowed.
    const args = (out: string, chk: string, marker: string) => [
      "run",
      "test/fixtures/flaky-job.ts",
      "--param",
      `out=${out}`,
      "--param",
      `marker=${marker}`,
      "--param",
      "failures=5",
      "--checkpoint-dir",
      chk,
      "--checkpoint-interval",
      "100ms",
      "--no-progress",
    ];
    const donePath = join(tmp, "flaky5-done");
    await writeFile(donePath, "1000000");
    const expected = await straight("flaky5", (o, c) => args(o, c, donePath));
    const out = join(tmp, "flaky5");
    const exit = await runOrKill(args(out, join(tmp, "flaky5-chk"), join(tmp, "flaky5-marker")), 120_000);
    expect(exit.code, exit.stderr).toBe(0);
    const delays = [...exit.stderr.matchAll(/restarting from the latest checkpoint in (\S+) \(restart (\d+)\)/g)].map((m) => [m[2], m[1]]);
    expect(delays.map(([n]) => n)).toEqual(["1", "2", "3", "4", "5"]);
    expect(delays.slice(0, 3).map(([, d]) => d)).toEqual(["1.00s", "1.50s", "2.25s"]);
    expect(await readFile(join(tmp, "flaky5-marker"), "utf8")).toBe("5");
    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...expected].sort());
  }, 150_000);

  it("does not restart on a user error: it fails once, naming the error", async () => {
    const exit = await runOrKill(["run", "jobs/word-count.ts", "--param", `input=${join(tmp, "missing.txt")}`, "--checkpoint-dir", join(tmp, "nochk")]);
    expect(exit.code).toBe(1);
    expect(exit.stderr).not.toContain("restarting");
    expect(exit.stderr).toContain("INPUT_NOT_FOUND");
  });

  it("skips a corrupt latest checkpoint with a message and resumes from the previous one, exactly once", async () => {
    const expected = await straight("corrupt", (o, c) => totalsArgs(o, c, ["--checkpoint-interval", "off"]));
    const out = join(tmp, "corrupt");
    const checkpoints = join(tmp, "corrupt-chk");
    // Die right after the 3rd checkpoint's metadata is written, before its transactions commit.
    const died = await runOrKill(totalsArgs(out, checkpoints), undefined, { WEIR_FAILPOINT: "after-metadata@3" });
    expect(died.signal, died.stderr).toBe("SIGKILL");
    const ids = (await readdir(join(checkpoints, "account-totals"))).filter((n) => /^chk-\d+$/.test(n)).map((n) => Number(n.slice(4)));
    const latest = Math.max(...ids);
    await writeFile(join(checkpoints, "account-totals", `chk-${latest}`, "_metadata"), '{"checksum":"00","body":"{}"}');
    const resumed = await runOrKill(totalsArgs(out, checkpoints));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`checkpoint ${latest} is unreadable`);
    expect(resumed.stderr).toMatch(new RegExp(`resuming 'account-totals' from checkpoint ${latest - 1}\\b`));
    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...expected].sort());
    const names = await readdir(join(checkpoints, "account-totals"));
    expect(names).toContain(`chk-${latest}.corrupt`);
  }, 60_000);

  it("does not run a finished job again; --fresh does", async () => {
    const out = join(tmp, "twice");
    const checkpoints = join(tmp, "twice-chk");
    const first = await runOrKill(totalsArgs(out, checkpoints));
    expect(first.code, first.stderr).toBe(0);
    const before = await committedLines(out);
    const second = await runOrKill(totalsArgs(out, checkpoints));
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/job 'account-totals' already finished \(final checkpoint \d+/);
    expect(await committedLines(out)).toEqual(before);
    const fresh = await runOrKill(totalsArgs(join(tmp, "twice-fresh"), checkpoints, ["--fresh"]));
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).not.toContain("resuming");
    expect((await committedLines(join(tmp, "twice-fresh"))).sort()).toEqual([...before].sort());
  }, 60_000);

  it("lists and inspects checkpoints: ids, sizes, positions, state per operator, pending transactions", async () => {
    const out = join(tmp, "listed");
    const checkpoints = join(tmp, "listed-chk");
    const died = await runOrKill(totalsArgs(out, checkpoints, ["--retain", "2"]), undefined, { WEIR_FAILPOINT: "after-metadata@4" });
    expect(died.signal).toBe("SIGKILL");
    const list = await cli(["checkpoints", "list", "--job", "account-totals", "--checkpoint-dir", checkpoints]);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.trim().split("\n");
    expect(rows[0]).toBe("id\tcompleted\tsize\tnew\tduration\tfinal\tsource positions");
    // retain 2: checkpoint 3's completion deleted 1; the process died before 4's completion could delete 2.
    expect(rows.slice(1).map((r) => Number(r.split("\t")[0]))).toEqual([2, 3, 4]);
    expect(rows[3]).toMatch(/^4\t\S+Z\t[\d.]+ (B|KiB|MiB)\t[\d.]+ (B|KiB|MiB)\t\d+(ms|\.\d+s)\tno\ttransactions-0: split-0=\d+ /);
    const inspect = await cli(["checkpoints", "inspect", join(checkpoints, "account-totals", "chk-4")]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/^checkpoint 4 of job 'account-totals'/);
    expect(inspect.stdout).toMatch(/running-total\[0\/1\] key groups 0-127: [\d.]+ (B|KiB|MiB) in \d+ files \(rocksdb,/);
    expect(inspect.stdout).toMatch(/transactions-0 split-3: \d+/);
    expect(inspect.stdout).toMatch(/pending sink transactions: 1\n {2}totals\[0\]: \{"pending":".*\.pending","final":".*\.jsonl"\}/);
    const missing = await cli(["checkpoints", "inspect", join(checkpoints, "nope")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("CHECKPOINT_NOT_FOUND");
  }, 60_000);
});
