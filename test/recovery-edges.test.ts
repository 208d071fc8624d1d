/**
 * Recovery at the edges, as a user meets it through `weir run` (real processes, real files):
 * - checkpoints that are not damaged but unreadable by this Weir (an unknown metadata format,
 *   e.g. after a version rollback) or by the file system (a read error) stop the run with one
 *   line naming the path: nothing is set aside, no output is retracted;
 * - when every checkpoint is damaged, the run refuses instead of silently starting over (which
 *   would retract all committed output), and says `--fresh --overwrite-output` does that;
 * - a refused `--fresh` leaves the checkpoints, so a plain resume still works;
 * - `--fresh` deletes only the checkpoint lineage, not a live run's working state beside it;
 * - a job whose checkpoints predate the highest-completed record still counts them.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, completedCheckpointIds, repoRoot, runOrKill, runUntil, startWeir, accountTotalsArgs } from "./support/weir-process.ts";

const JOB = "account-totals";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-recovery-edges-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const args = (out: string, checkpoints: string, extra: string[] = []) => accountTotalsArgs(out, checkpoints, ["--retain", "100", ...extra], join(repoRoot, "jobs/account-totals.ts"));

let straightRun: Promise<string[]> | undefined;
const straight = (): Promise<string[]> =>
  (straightRun ??= (async () => {
    const out = join(tmp, "straight");
    const exit = await runOrKill(args(out, join(tmp, "straight-chk"), ["--checkpoint-interval", "off"]));
    expect(exit.code, exit.stderr).toBe(0);
    return committedLines(out);
  })());

const expectSameAsStraight = async (out: string) => {
  expect([...(await committedLines(out))].sort()).toEqual([...(await straight())].sort());
};

const committedIds = async (out: string): Promise<number[]> =>
  (await readdir(out).catch(() => [] as string[])).map((n) => /^part-.*-chk(\d+)\.jsonl$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]));

/** A run killed once checkpoints up to at least 3 have committed output: its output and checkpoints. */
const stoppedRun = async (name: string) => {
  const out = join(tmp, name);
  const checkpoints = join(tmp, `${name}-chk`);
  const killed = await runUntil(args(out, checkpoints), async () => (await committedIds(out)).some((id) => id >= 3));
  expect(killed.killedByUs, killed.stderr).toBe(true);
  const ids = await completedCheckpointIds(checkpoints, JOB);
  expect(ids.length).toBeGreaterThanOrEqual(3);
  return { out, checkpoints, ids, jobDir: join(checkpoints, JOB) };
};

/** What a refused run must leave as it was: the job's folder listing (but the lock a killed run left) and the committed output. */
const snapshotOf = async (jobDir: string, out: string) => ({
  entries: (await readdir(jobDir)).filter((n) => n !== ".lock").sort(),
  output: await committedLines(out),
});

describe("checkpoints this Weir cannot read are not damage", () => {
  it("metadata of an unknown format (valid checksums, as after a version rollback): one line naming the path and format, nothing set aside or retracted", async () => {
    const { out, checkpoints, ids, jobDir } = await stoppedRun("format3");
    for (const id of ids) {
      const path = join(jobDir, `chk-${id}`, "_metadata");
      const outer = JSON.parse(await readFile(path, "utf8")) as { body: string };
      const body = JSON.stringify({ ...(JSON.parse(outer.body) as object), format: 3 });
      await writeFile(path, JSON.stringify({ checksum: createHash("sha256").update(body).digest("hex"), body }));
    }
    const before = await snapshotOf(jobDir, out);
    const run = await runOrKill(args(out, checkpoints));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`${join(jobDir, `chk-${ids.at(-1)}`, "_metadata")} has format 3`);
    expect(run.stderr).toContain("written by a newer Weir?");
    expect(run.stderr).toContain("(CHECKPOINT_UNSUPPORTED_FORMAT)");
    expect(run.stderr).not.toContain("retracted");
    expect(run.stderr).not.toContain("set aside");
    expect(await snapshotOf(jobDir, out)).toEqual(before);
  }, 120_000);

  it("a read error on the latest checkpoint's metadata (EISDIR here; EIO/EACCES alike) is an external error naming the path, nothing set aside", async () => {
    const { out, checkpoints, ids, jobDir } = await stoppedRun("read-error");
    const path = join(jobDir, `chk-${ids.at(-1)}`, "_metadata");
    await rm(path);
    await mkdir(path);
    const before = await snapshotOf(jobDir, out);
    const run = await runOrKill(args(out, checkpoints));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`cannot read ${path}: EISDIR`);
    expect(run.stderr).toContain("(CHECKPOINT_READ_FAILED)");
    expect(run.stderr).not.toContain("set aside");
    expect(await snapshotOf(jobDir, out)).toEqual(before);
  }, 120_000);
});

describe("every checkpoint damaged", () => {
  it("refuses, listing the damage and changing nothing; --fresh --overwrite-output then starts over with the right output", async () => {
    const { out, checkpoints, ids, jobDir } = await stoppedRun("all-torn");
    for (const id of ids) await writeFile(join(jobDir, `chk-${id}`, "_metadata"), "{ torn");
    const before = await snapshotOf(jobDir, out);
    expect(before.output.length).toBeGreaterThan(0);
    const refused = await runOrKill(args(out, checkpoints));
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain("(NO_RESTORABLE_CHECKPOINT)");
    expect(refused.stderr).toContain(`checkpoints up to ${ids.at(-1)} had completed`);
    for (const id of ids) expect(refused.stderr).toContain(`checkpoint ${id} is unreadable`);
    expect(refused.stderr).toContain("--fresh --overwrite-output");
    expect(refused.stderr).not.toContain("retracted");
    expect(await snapshotOf(jobDir, out)).toEqual(before);

    const over = await runOrKill(args(out, checkpoints, ["--fresh", "--overwrite-output"]));
    expect(over.code, over.stderr).toBe(0);
    await expectSameAsStraight(out);
  }, 120_000);
});

describe("--fresh", () => {
  const twoSinks = (a: string, b: string, checkpoints: string, extra: string[] = []) => [
    "run",
    "test/fixtures/two-sinks-job.ts",
    "--param",
    `out=${a}`,
    "--param",
    `out2=${b}`,
    "--checkpoint-dir",
    checkpoints,
    "--no-progress",
    ...extra,
  ];

  it("refused for existing output, it leaves the checkpoints: a plain run still sees the job as finished", async () => {
    const a = join(tmp, "refused-a");
    const b = join(tmp, "refused-b");
    const checkpoints = join(tmp, "refused-chk");
    const first = await runOrKill(twoSinks(a, b, checkpoints));
    expect(first.code, first.stderr).toBe(0);
    const before = await snapshotOf(join(checkpoints, "two-sinks"), a);
    const refused = await runOrKill(twoSinks(a, b, checkpoints, ["--fresh"]));
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain("(OUTPUT_EXISTS)");
    expect((await snapshotOf(join(checkpoints, "two-sinks"), a)).entries).toEqual(before.entries);
    const plain = await runOrKill(twoSinks(a, b, checkpoints));
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toContain("already finished");
  }, 120_000);

  it("with --from is refused before anything is changed", async () => {
    const a = join(tmp, "both-a");
    const b = join(tmp, "both-b");
    const checkpoints = join(tmp, "both-chk");
    const first = await runOrKill(twoSinks(a, b, checkpoints));
    expect(first.code, first.stderr).toBe(0);
    const before = await snapshotOf(join(checkpoints, "two-sinks"), a);
    const both = await runOrKill(twoSinks(a, b, checkpoints, ["--fresh", "--overwrite-output", "--from", join(checkpoints, "two-sinks", "chk-1")]));
    expect(both.code, both.stderr).toBe(1);
    expect(both.stderr).toContain("pass only one of them");
    expect(both.stderr).toContain("(CONFLICTING_OPTIONS)");
    expect(await snapshotOf(join(checkpoints, "two-sinks"), a)).toEqual(before);
  }, 120_000);

  it("with --checkpoint-dir .weir, deletes only the checkpoint lineage, not the working state of a live run beside it", async () => {
    const cwd = join(tmp, "project");
    await mkdir(cwd, { recursive: true });
    const stateRoot = join(cwd, ".weir", JOB, "state");
    // A slow live run with its checkpoints elsewhere and its RocksDB in the default .weir/<job>/state/<run>.
    const live = startWeir(args(join(tmp, "live-out"), join(tmp, "live-chk"), ["--param", "rate=3000"]), {}, { cwd });
    let exited = false;
    void live.exited.then(() => (exited = true));
    // A run folder appears under a hidden `.claiming-*` name and is renamed once claimed: wait for that.
    const claimed = async () => (await readdir(stateRoot).catch(() => [] as string[])).filter((n) => !n.startsWith("."));
    while (!exited && (await claimed()).length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(exited, "the live run was still running").toBe(false);
    const [liveFolder] = await claimed();
    const liveState = join(stateRoot, liveFolder!);
    const liveFiles = (await readdir(liveState, { recursive: true })).length;
    expect(liveFiles).toBeGreaterThan(0);

    // The same job with --checkpoint-dir .weir: an old lineage (one finished run), then --fresh.
    const freshOut = join(tmp, "fresh-out");
    const old = await runOrKill(args(freshOut, ".weir", ["--param", "events=2000"]), undefined, {}, { cwd });
    expect(old.code, old.stderr).toBe(0);
    const fresh = await runOrKill(args(freshOut, ".weir", ["--param", "events=2000", "--fresh", "--overwrite-output"]), undefined, {}, { cwd });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(exited, "the live run was still running").toBe(false);
    expect((await stat(liveState)).isDirectory()).toBe(true);
    expect((await readdir(liveState, { recursive: true })).length).toBeGreaterThan(0);

    const done = await live.exited;
    expect(done.code, done.stderr).toBe(0);
    await expectSameAsStraight(join(tmp, "live-out"));
  }, 180_000);
});

describe("checkpoints older than the highest-completed record", () => {
  it("--from an older checkpoint of a job without completed.json still abandons the later checkpoints", async () => {
    const out = join(tmp, "no-record");
    const checkpoints = join(tmp, "no-record-chk");
    const first = await runOrKill(args(out, checkpoints));
    expect(first.code, first.stderr).toBe(0);
    const ids = await completedCheckpointIds(checkpoints, JOB);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    await rm(join(checkpoints, JOB, "completed.json"));

    const again = await runOrKill(args(out, checkpoints, ["--from", join(checkpoints, JOB, "chk-2")]));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`deleted checkpoints 3-${ids.at(-1)} of '${JOB}': this run restores checkpoint 2`);
    await expectSameAsStraight(out);
    const plain = await runOrKill(args(out, checkpoints));
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toContain("already finished");
    await expectSameAsStraight(out);
  }, 120_000);
});
