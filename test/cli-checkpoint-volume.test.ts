/**
 * Checkpoints on another volume, as deployed: `weir run --checkpoint-dir` on a second file system
 * (/dev/shm, or a tmpfs mounted for the test) while the RocksDB working state stays under the
 * repository. A run killed with SIGKILL after a completed checkpoint resumes from it, at the same
 * parallelism (the checkpoint's files are copied into the working state) and at another one (the
 * key groups are scanned out of copies), and the committed output equals a straight run's.
 * Without a second file system the tests print why and are skipped.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secondFileSystem } from "./support/second-fs.ts";
import { accountTotalsArgs, committedLines, hasCompletedCheckpoint, repoRoot, runOrKill, runUntil, sequencesBy } from "./support/weir-process.ts";

const second = await secondFileSystem(repoRoot);
if (second.kind === "unavailable") console.warn(`cli-checkpoint-volume: skipped: ${second.reason}`);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-checkpoint-volume-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
  if (second.kind === "available") await second.cleanup();
});

const totalsArgs = (out: string, checkpoints: string, parallelism: number) =>
  accountTotalsArgs(out, checkpoints, ["--parallelism", String(parallelism), "--restart-attempts", "0"]);

describe.skipIf(second.kind !== "available")("weir run with --checkpoint-dir on another file system", () => {
  const otherVolume = async (name: string) => {
    const dir = join(second.kind === "available" ? second.dir : "", name);
    const device = async (path: string) => (await stat(path)).dev;
    expect(await device(second.kind === "available" ? second.dir : "")).not.toBe(await device(repoRoot));
    return dir;
  };

  it.each([
    { how: "at the same parallelism", before: 1, after: 1 },
    { how: "at another parallelism", before: 1, after: 2 },
  ])("resumes after SIGKILL $how, exactly once", async ({ before, after }) => {
    const expectedOut = join(tmp, `expected-${before}-${after}`);
    const straight = await runOrKill(totalsArgs(expectedOut, join(tmp, `expected-chk-${before}-${after}`), before));
    expect(straight.code, straight.stderr).toBe(0);
    const expected = await committedLines(expectedOut);

    const out = join(tmp, `out-${before}-${after}`);
    const checkpoints = await otherVolume(`chk-${before}-${after}`);
    const killed = await runUntil(totalsArgs(out, checkpoints, before), hasCompletedCheckpoint(checkpoints, "account-totals"));
    expect(killed.killedByUs, killed.stderr).toBe(true);
    const resumed = await runOrKill(totalsArgs(out, checkpoints, after));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming 'account-totals' from checkpoint \d+/);
    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...expected].sort());
    expect(sequencesBy(got, "account")).toEqual(sequencesBy(expected, "account"));
  }, 120_000);
});
