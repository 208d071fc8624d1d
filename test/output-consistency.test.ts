/**
 * The committed output of `toFiles` matches the state a run starts from, as a user meets it
 * through `weir run` (real processes, real files):
 * - restoring an older checkpoint (`--from`, or a fallback past a corrupt latest one) retracts
 *   the part files that later checkpoints had committed, and says so in one line;
 * - two runs cannot write one output directory at once: the second is refused, the first is
 *   undisturbed;
 * - re-running after the output was touched: a finished job whose output was removed says so;
 *   `--fresh` refuses while committed output of an earlier run exists, unless
 *   `--overwrite-output`, which deletes it first.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, completedCheckpointIds, hiddenFiles, runOrKill, runUntil, sequencesBy, startWeir, accountTotalsArgs } from "./support/weir-process.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-output-consistency-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const JOB = "account-totals";

/** `text` as a literal inside a RegExp. */
const re = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const totalsArgs = (out: string, checkpoints: string, extra: string[] = []) => accountTotalsArgs(out, checkpoints, ["--retain", "100", ...extra]);

let straightRun: Promise<string[]> | undefined;
/** The committed output of a run that never failed (no checkpoints but the final one). */
const straight = (): Promise<string[]> =>
  (straightRun ??= (async () => {
    const out = join(tmp, "straight");
    const exit = await runOrKill(totalsArgs(out, join(tmp, "straight-chk"), ["--checkpoint-interval", "off"]));
    expect(exit.code, exit.stderr).toBe(0);
    return committedLines(out);
  })());

const expectSameAsStraight = async (out: string) => {
  const expected = await straight();
  const got = await committedLines(out);
  expect(got.length, "committed lines").toBe(expected.length);
  expect([...got].sort()).toEqual([...expected].sort());
  expect(sequencesBy(got, "account")).toEqual(sequencesBy(expected, "account"));
};

const completedIds = (checkpoints: string) => completedCheckpointIds(checkpoints, JOB);

/** The checkpoint ids in the names of the committed part files (`...-chk<n>.jsonl`). */
const committedByCheckpoint = async (out: string): Promise<Set<number>> =>
  new Set(
    (await readdir(out).catch(() => [] as string[]))
      .map((n) => /^part-.*-chk(\d+)\.jsonl$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1])),
  );

describe("restoring an older checkpoint: the file sink retracts what later checkpoints committed", () => {
  it("--from an older checkpoint of a finished job: the output equals a straight run, no duplicates, and one line says what was retracted", async () => {
    const out = join(tmp, "from");
    const checkpoints = join(tmp, "from-chk");
    const first = await runOrKill(totalsArgs(out, checkpoints));
    expect(first.code, first.stderr).toBe(0);
    const ids = await completedIds(checkpoints);
    expect(ids.length, `checkpoints taken: ${ids.join(", ")}`).toBeGreaterThanOrEqual(3);
    const last = ids.at(-1)!;

    const again = await runOrKill(totalsArgs(out, checkpoints, ["--from", join(checkpoints, JOB, "chk-2")]));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(
      new RegExp(`sink 'totals': retracted \\d+ part files? committed by checkpoints? 3[-\\d, ]* from ${re(out)} \\(the run restores checkpoint 2\\)`),
    );
    expect(again.stderr).toContain(`deleted checkpoints 3-${last} of '${JOB}': this run restores checkpoint 2`);
    await expectSameAsStraight(out);

    // The abandoned checkpoints are gone, so a plain re-run sees the job as finished by the new lineage.
    const plain = await runOrKill(totalsArgs(out, checkpoints));
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toContain("already finished");
    await expectSameAsStraight(out);
  }, 120_000);

  it("a corrupt latest checkpoint falls back to the previous one and retracts the part files it had committed", async () => {
    const out = join(tmp, "corrupt");
    const checkpoints = join(tmp, "corrupt-chk");
    // Kill once at least three checkpoints have committed output.
    const killed = await runUntil(totalsArgs(out, checkpoints), async () => [...(await committedByCheckpoint(out))].filter((id) => id >= 3).length > 0);
    expect(killed.killedByUs, killed.stderr).toBe(true);
    // Damage every checkpoint from the newest one whose output is visible: whatever it committed must go.
    const newestCommitted = Math.max(...(await committedByCheckpoint(out)));
    const damaged = (await completedIds(checkpoints)).filter((id) => id >= newestCommitted);
    expect(damaged.length).toBeGreaterThan(0);
    for (const id of damaged) await writeFile(join(checkpoints, JOB, `chk-${id}`, "_metadata"), "{ torn");

    const resumed = await runOrKill(totalsArgs(out, checkpoints));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`checkpoint ${damaged.at(-1)} is unreadable`);
    expect(resumed.stderr).toMatch(/sink 'totals': retracted \d+ part files? committed by checkpoints? .*\(the run restores checkpoint \d+\)/);
    await expectSameAsStraight(out);
  }, 120_000);
});

describe("two runs, one output directory", () => {
  it("a second live run into the same output directory is refused naming the directory and the other run; the first finishes with the right output", async () => {
    const out = join(tmp, "shared");
    // A slower first run (~10 s, same output), surely still running when the second one starts;
    // wait until it is writing (an in-progress part file exists).
    const first = startWeir(totalsArgs(out, join(tmp, "shared-chk-a"), ["--param", "rate=3000"]));
    let exited = false;
    void first.exited.then(() => (exited = true));
    while (!exited && !(await hiddenFiles(out).catch(() => [] as string[])).some((n) => n.endsWith(".inprogress"))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(exited, "the first run was still running").toBe(false);
    const second = await runOrKill(totalsArgs(out, join(tmp, "shared-chk-b")));
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toContain(`output directory ${out} is being written by another run: job '${JOB}' (pid ${first.pid}`);
    expect(second.stderr).toContain("OUTPUT_DIR_IN_USE");
    const done = await first.exited;
    expect(done.code, done.stderr).toBe(0);
    await expectSameAsStraight(out);
    expect(await hiddenFiles(out)).toEqual([]);
    // Once the first run is over, the directory is free (and the second run then has output to deal with).
    const later = await runOrKill(totalsArgs(out, join(tmp, "shared-chk-b")));
    expect(later.stderr).not.toContain("OUTPUT_DIR_IN_USE");
  }, 120_000);
});

describe("re-running after touching the output", () => {
  const twoSinks = (out: string, out2: string, checkpoints: string, extra: string[] = []) => [
    "run",
    "test/fixtures/two-sinks-job.ts",
    "--param",
    `out=${out}`,
    "--param",
    `out2=${out2}`,
    "--checkpoint-dir",
    checkpoints,
    "--no-progress",
    ...extra,
  ];

  it("a finished job whose output was removed says so, naming the missing file, and suggests --fresh", async () => {
    const out = join(tmp, "removed");
    const checkpoints = join(tmp, "removed-chk");
    const first = await runOrKill(totalsArgs(out, checkpoints));
    expect(first.code, first.stderr).toBe(0);
    await rm(out, { recursive: true });
    const again = await runOrKill(totalsArgs(out, checkpoints));
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`job '${JOB}' already finished \\(final checkpoint \\d+, [^)]+\\), but cannot commit ${re(out)}/part-\\S+\\.jsonl: neither it nor its pending file`));
    expect(again.stderr).toContain("run with --fresh");
    expect(again.stderr).toContain("(FILE_SINK_OUTPUT_MISSING)");
    expect(again.stderr.trim().split("\n")).toHaveLength(1);
    // --fresh then runs it again, once.
    const fresh = await runOrKill(totalsArgs(out, checkpoints, ["--fresh"]));
    expect(fresh.code, fresh.stderr).toBe(0);
    await expectSameAsStraight(out);
  }, 120_000);

  it("with two sinks, one output removed: the same clear error naming that sink's file", async () => {
    const a = join(tmp, "two-a");
    const b = join(tmp, "two-b");
    const checkpoints = join(tmp, "two-chk");
    const first = await runOrKill(twoSinks(a, b, checkpoints));
    expect(first.code, first.stderr).toBe(0);
    await rm(b, { recursive: true });
    const again = await runOrKill(twoSinks(a, b, checkpoints));
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).not.toContain("internal error");
    expect(again.stderr).toMatch(new RegExp(`already finished \\(final checkpoint \\d+, [^)]+\\), but cannot commit ${re(b)}/part-`));
    expect(again.stderr).toContain("operator 'second'");
    expect(again.stderr).toContain("(FILE_SINK_OUTPUT_MISSING)");
  }, 120_000);

  it("--fresh refuses while an earlier run's committed part files are there, naming the directory and count; --overwrite-output deletes them first", async () => {
    const a = join(tmp, "fresh-a");
    const b = join(tmp, "fresh-b");
    const checkpoints = join(tmp, "fresh-chk");
    const first = await runOrKill(twoSinks(a, b, checkpoints));
    expect(first.code, first.stderr).toBe(0);
    const before = [await committedLines(a), await committedLines(b)];
    expect(before[0]!.length).toBeGreaterThan(0);
    const refused = await runOrKill(twoSinks(a, b, checkpoints, ["--fresh"]));
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`${re(a)} holds 1 part file committed by an earlier run of 'two-sinks' \\(sink 'first'\\).*--overwrite-output`));
    expect(refused.stderr).toContain("(OUTPUT_EXISTS)");
    // Nothing was changed by the refused run.
    expect([await committedLines(a), await committedLines(b)]).toEqual(before);

    const overwritten = await runOrKill(twoSinks(a, b, checkpoints, ["--fresh", "--overwrite-output"]));
    expect(overwritten.code, overwritten.stderr).toBe(0);
    expect(overwritten.stderr).toContain(`sink 'first': deleted 1 part file of an earlier run of 'two-sinks' from ${a} (--overwrite-output)`);
    expect(overwritten.stderr).toContain(`sink 'second': deleted 1 part file of an earlier run of 'two-sinks' from ${b} (--overwrite-output)`);
    // Not doubled: the same output as the first run.
    expect([[...(await committedLines(a))].sort(), [...(await committedLines(b))].sort()]).toEqual(before.map((l) => [...l].sort()));
  }, 120_000);
});
