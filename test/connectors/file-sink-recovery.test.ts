/**
 * Specification of `toFiles(dir).recover(committables, context)` (connectors/file-sink.ts), the
 * step a restarted job runs once per sink before any writer exists: commit exactly the
 * committables of the restored checkpoint (some possibly committed already), delete every other
 * hidden part file the crashed run left (in progress, or pending from a checkpoint that never
 * completed), and leave committed part files alone. Readers see exactly the files whose names
 * do not start with ".".
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { WeirError } from "../../common/errors.ts";
import { toFiles, type FileCommittable } from "../../connectors/file-sink.ts";
import type { RecoveryContext, SinkContext, SinkWriter } from "../../connectors/sink.ts";

interface Row {
  readonly id: number;
  readonly text: string;
}

/** Run r1 crashed (see crashedRun); r0 finished earlier and was cleaned up after. */
const recovery: RecoveryContext = { jobName: "t", operatorName: "s", writerStates: [], previousRuns: [{ runId: "r1", parallelism: 2 }] };

const context = (overrides: Partial<SinkContext> = {}): SinkContext => ({
  checkpointIntervalMs: 1_000,
  jobName: "t",
  operatorName: "s",
  subtask: 0,
  parallelism: 1,
  runId: "r1",
  ...overrides,
});

const rows = (from: number, count: number): Row[] =>
  Array.from({ length: count }, (_, i) => ({ id: from + i, text: `row ${from + i} é日😀 "q" \\` }));

const lines = (records: readonly Row[]): string => records.map((r) => `${JSON.stringify(r)}\n`).join("");

let root: string;
let dir: string;
const writers: SinkWriter<Row, FileCommittable>[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "weir-file-sink-recovery-"));
  dir = join(root, "out");
});

afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.close().catch(() => undefined)));
  await rm(root, { recursive: true, force: true });
});

const writer = async (ctx: SinkContext, maxPartBytes?: number): Promise<SinkWriter<Row, FileCommittable>> => {
  const w = await toFiles<Row>(dir, maxPartBytes === undefined ? {} : { maxPartBytes }).createWriter(ctx);
  writers.push(w);
  return w;
};

const visible = async (): Promise<string[]> => (await readdir(dir)).filter((n) => !n.startsWith(".")).sort();
const hidden = async (): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith(".")).sort();

/** Name → content and inode of every file in the output directory. */
const state = async (): Promise<Record<string, { content: string; ino: number }>> => {
  const out: Record<string, { content: string; ino: number }> = {};
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    out[name] = { content: await readFile(path, "utf8"), ino: (await stat(path)).ino };
  }
  return out;
};

/**
 * The file system a crash leaves behind, in one output directory:
 * - `part-r0-0-0-chk1.jsonl`, committed by an earlier run;
 * - subtask 0 of run r1: checkpoint 1 pre-committed (rolled over into several pending parts),
 *   checkpoint 2 pre-committed but never completed, then records in progress;
 * - subtask 1 of run r1: checkpoint 1 pre-committed and already committed, then checkpoint 2
 *   pre-committed but never completed, then records in progress.
 * Returns checkpoint 1's committables (what the restored checkpoint recorded) and the content
 * each of their final files must get.
 */
const crashedRun = async () => {
  const earlier = await writer(context({ runId: "r0" }));
  await earlier.write(rows(1000, 3));
  await earlier.commit(await earlier.preCommit(1));
  await earlier.close();

  const expected = new Map<string, string>();
  const w0 = await writer(context({ subtask: 0, parallelism: 2 }), 200);
  const batches0 = [rows(0, 4), rows(4, 4), rows(8, 4)];
  for (const b of batches0) await w0.write(b);
  const c0 = await w0.preCommit(1);
  expect(c0.length).toBeGreaterThan(1); // rolled over: several parts in one checkpoint
  await w0.write(rows(100, 3));
  expect(await w0.preCommit(2)).toHaveLength(1);
  await w0.write(rows(200, 2));

  const w1 = await writer(context({ subtask: 1, parallelism: 2 }));
  await w1.write(rows(50, 5));
  const c1 = await w1.preCommit(1);
  expect(c1).toHaveLength(1);
  await w1.commit(c1); // committed before the crash: recover must accept it again
  await w1.write(rows(150, 2));
  expect(await w1.preCommit(2)).toHaveLength(1);
  await w1.write(rows(250, 2));

  // The crash: handles go away, files stay.
  await w0.close();
  await w1.close();

  // Subtask 0's checkpoint-1 parts concatenate, in part order, to its checkpoint-1 records.
  let text0 = "";
  for (const c of c0) text0 += await readFile(c.pending, "utf8");
  expect(text0).toBe(lines(batches0.flat()));
  for (const c of c0) expected.set(basename(c.final), await readFile(c.pending, "utf8"));
  expected.set(basename(c1[0]!.final), lines(rows(50, 5)));

  const hiddenBefore = await hidden();
  expect(hiddenBefore.some((n) => n.endsWith(".pending"))).toBe(true);
  expect(hiddenBefore.some((n) => n.endsWith(".inprogress"))).toBe(true);
  return { committables: [...c0, ...c1], expected };
};

describe("toFiles(dir).recover", () => {
  test("commits exactly the given committables and deletes every other hidden part file", async () => {
    const { committables, expected } = await crashedRun();
    const committedBefore = (await state())["part-r0-0-0-chk1.jsonl"];
    expect(committedBefore?.content).toBe(lines(rows(1000, 3)));

    await toFiles<Row>(dir).recover!(committables, recovery);

    expect(await hidden()).toEqual([]);
    expect(await visible()).toEqual(["part-r0-0-0-chk1.jsonl", ...expected.keys()].sort());
    for (const [name, content] of expected) expect(await readFile(join(dir, name), "utf8")).toBe(content);
    // The earlier run's committed file is untouched (same file, same content).
    expect((await state())["part-r0-0-0-chk1.jsonl"]).toEqual(committedBefore);
  });

  test("records of the aborted checkpoint and of in-progress files never become visible", async () => {
    const { committables } = await crashedRun();
    await toFiles<Row>(dir).recover!(committables, recovery);
    const ids = new Set<number>();
    for (const name of await visible()) {
      const text = await readFile(join(dir, name), "utf8");
      for (const line of text.slice(0, -1).split("\n")) ids.add((JSON.parse(line) as Row).id);
    }
    const expectedIds = [...rows(1000, 3), ...rows(0, 12), ...rows(50, 5)].map((r) => r.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(expectedIds.sort((a, b) => a - b));
  });

  test("is idempotent: recovering again with the same committables succeeds and changes nothing", async () => {
    const { committables } = await crashedRun();
    const sink = toFiles<Row>(dir);
    await sink.recover!(committables, recovery);
    const after = await state();
    await sink.recover!(committables, recovery);
    expect(await state()).toEqual(after);
    // A new sink instance, as after a second restart, too.
    await toFiles<Row>(dir).recover!(committables, recovery);
    expect(await state()).toEqual(after);
  });

  test("with no committables (a fresh start) aborts every hidden part file and keeps committed ones", async () => {
    const { committables } = await crashedRun();
    const before = await state();
    const alreadyCommitted = Object.keys(before).filter((n) => !n.startsWith("."));
    await toFiles<Row>(dir).recover!([], recovery);
    expect(await hidden()).toEqual([]);
    expect(await visible()).toEqual(alreadyCommitted);
    for (const name of alreadyCommitted) expect((await state())[name]).toEqual(before[name]);
    // Subtask 0's checkpoint-1 files were never committed, so none of them is visible.
    for (const c of committables.filter((c) => basename(c.final).startsWith("part-r1-0-"))) {
      expect(await visible()).not.toContain(basename(c.final));
    }
  });

  test("leaves hidden files that are not part files alone", async () => {
    await crashedRun();
    await writeFile(join(dir, ".keep"), "x");
    await writeFile(join(dir, ".part-notes.txt"), "y");
    await toFiles<Row>(dir).recover!([], recovery);
    expect(await hidden()).toEqual([".keep", ".part-notes.txt"]);
  });

  test("a writer of the restarted run can write and commit after recovery", async () => {
    const { committables, expected } = await crashedRun();
    await toFiles<Row>(dir).recover!(committables, recovery);
    const w = await writer(context({ runId: "r2" }));
    await w.write(rows(500, 2));
    await w.commit(await w.preCommit(3));
    expect(await visible()).toEqual(["part-r0-0-0-chk1.jsonl", "part-r2-0-0-chk3.jsonl", ...expected.keys()].sort());
    expect(await readFile(join(dir, "part-r2-0-0-chk3.jsonl"), "utf8")).toBe(lines(rows(500, 2)));
  });

  test("is a no-op when the output directory does not exist", async () => {
    await toFiles<Row>(dir).recover!([], recovery);
    await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(root)).toEqual([]);
  });

  test("a committable whose pending file and final file are both gone is an error, not a silent success", async () => {
    const { committables } = await crashedRun();
    const lost = committables[0]!;
    await rm(lost.pending);
    const error = await toFiles<Row>(dir)
      .recover!([lost], recovery)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(WeirError);
    expect((error as WeirError).code).toBe("FILE_SINK_OUTPUT_MISSING");
    expect((error as WeirError).message).toContain(lost.final);
  });

  test("leaves the hidden part files of runs that are not the job's earlier runs alone (another job's live writer)", async () => {
    const { committables } = await crashedRun();
    // Another job writes into the same directory (its own run id), in progress and pending.
    const other = await writer(context({ runId: "elsewhere" }));
    await other.write(rows(700, 3));
    const otherPending = await other.preCommit(4);
    await other.write(rows(800, 2));
    await toFiles<Row>(dir).recover!(committables, recovery);
    const left = await hidden();
    expect(left.length).toBe(2);
    expect(left.every((n) => n.startsWith(".part-elsewhere-"))).toBe(true);
    expect(left.some((n) => n.endsWith(".inprogress"))).toBe(true);
    // ...and that writer carries on undisturbed.
    await other.commit(otherPending);
    await other.commit(await other.preCommit(5));
    expect((await visible()).filter((n) => n.startsWith("part-elsewhere-"))).toHaveLength(2);
  });
});

describe("toFiles(dir).retract", () => {
  const retractContext = (dryRun: boolean, runIds = ["r0", "r1"]) => ({ jobName: "t", operatorName: "s", runIds, dryRun });

  /** Part files committed by checkpoints 1..4 of run r1 (one per checkpoint), and one of another job's run. */
  const committedRun = async () => {
    const w = await writer(context());
    for (let chk = 1; chk <= 4; chk++) {
      await w.write(rows(chk * 100, 2));
      await w.commit(await w.preCommit(chk));
    }
    const foreign = await writer(context({ runId: "elsewhere" }));
    await foreign.write(rows(900, 1));
    await foreign.commit(await foreign.preCommit(7));
  };

  test("deletes exactly the job's part files committed after the given checkpoint, and says which", async () => {
    await committedRun();
    const result = await toFiles<Row>(dir).retract!(2, retractContext(false));
    expect(result).toEqual({ removed: 2, checkpoints: [3, 4], location: dir, unit: "part files" });
    expect(await visible()).toEqual(["part-elsewhere-0-0-chk7.jsonl", "part-r1-0-0-chk1.jsonl", "part-r1-0-1-chk2.jsonl"]);
    // Idempotent: nothing more to do.
    expect((await toFiles<Row>(dir).retract!(2, retractContext(false))).removed).toBe(0);
  });

  test("a dry run counts and changes nothing; 0 means all of the job's committed output", async () => {
    await committedRun();
    const before = await visible();
    expect(await toFiles<Row>(dir).retract!(0, retractContext(true))).toMatchObject({ removed: 4, checkpoints: [1, 2, 3, 4] });
    expect(await visible()).toEqual(before);
    // Runs the job does not know are not its output.
    expect((await toFiles<Row>(dir).retract!(0, retractContext(true, ["r0"]))).removed).toBe(0);
  });
});
