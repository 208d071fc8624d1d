/**
 * Checkpoints that fail while a job runs (DESIGN §4.6): one times out, one is declined. Each is
 * aborted and its files deleted, the job keeps running and checkpointing, and the committed
 * output is still exactly that of a run without failures (the sink's transactions of the
 * aborted checkpoints are committed with a later one, not lost and not duplicated).
 *
 * In-process, with real parts: generator source, keyed reduce on the heap backend, the file sink,
 * checkpoint storage in a temporary directory.
 * - Timeout: the sink's preCommit of checkpoint 2 does not return until the job has logged that
 *   checkpoint 2 timed out (a condition, not a fixed sleep).
 * - Decline: before the run, checkpoint 3's state directory of the keyed operator is seeded with a
 *   dangling symlink, so the asynchronous part of that snapshot (which stats and fsyncs every file
 *   it finds there) fails and the task declines checkpoint 3, as it would on a storage error.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generator, job, toFiles, type Sink } from "../index.ts";
import { checkpointPath, listCheckpointIds, readMetadata } from "../checkpoint/storage.ts";
import { runDefinition } from "./support/run.ts";
import { committedLines } from "./support/weir-process.ts";

const scratch: string[] = [];
afterAll(async () => {
  for (const d of scratch) await rm(d, { recursive: true, force: true });
});
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "weir-aborts-"));
  scratch.push(d);
  return d;
};

const JOB = "aborts";
const KEYED = "sum";

/** Wraps a sink so that `beforePreCommit(id)` runs (and is awaited) before each preCommit. */
const delayingPreCommit = <T>(sink: Sink<T>, beforePreCommit: (id: number) => Promise<void>): Sink<T> => ({
  name: sink.name,
  ...(sink.recover === undefined ? {} : { recover: sink.recover.bind(sink) }),
  async createWriter(context) {
    const writer = await sink.createWriter(context);
    return {
      write: (records) => writer.write(records),
      preCommit: async (id) => {
        await beforePreCommit(id);
        return writer.preCommit(id);
      },
      commit: (committables) => writer.commit(committables),
      close: () => writer.close(),
      ...(writer.snapshotState === undefined ? {} : { snapshotState: () => writer.snapshotState!() }),
    };
  },
});

/** Each account's running total; every account's records come from one split, in order. */
const totals = (sink: Sink<{ account: string; total: number; n: number }>, ratePerSecond?: number) =>
  job(JOB, (env) =>
    env
      .source(
        generator({
          splits: 2,
          recordsPerSplit: 30_000,
          ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
          seed: 11,
          generate: ({ split, index, random }) => ({ account: `a${split}-${random.int(25)}`, total: random.int(100), n: index }),
        }),
        { name: "events" },
      )
      .keyBy((e) => e.account)
      .reduce((a, b) => ({ account: a.account, total: a.total + b.total, n: b.n }), { name: KEYED })
      .sink(sink, { name: "files" }),
  );

describe("checkpoints that time out or are declined", () => {
  it("are aborted and deleted while the job keeps running; later checkpoints complete and the output is exactly once", async () => {
    const dir = await tempDir();
    const straightOut = join(dir, "straight");
    await runDefinition(totals(toFiles(straightOut)), {
      checkpoints: { root: join(dir, "straight-checkpoints"), config: { intervalMs: Infinity } },
    });
    const expected = (await committedLines(straightOut)).sort();
    expect(expected.length).toBe(60_000);

    const root = join(dir, "checkpoints");
    const out = join(dir, "out");
    // Checkpoint 3's keyed state directory holds a file that cannot be stat'ed: its async part fails.
    const poisoned = join(checkpointPath(root, JOB, 3), KEYED, "0");
    await mkdir(poisoned, { recursive: true });
    await symlink(join(dir, "does-not-exist"), join(poisoned, "dangling"));

    const log: string[] = [];
    const waiters: (() => void)[] = [];
    const logged = (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => (log.some((l) => pattern.test(l)) ? (resolve(), true) : false);
        if (!check()) waiters.push(() => void check());
      });
    const completed: { id: number; final: boolean }[] = [];
    const sink = delayingPreCommit(toFiles(out), (id) => (id === 2 ? logged(/^checkpoint 2 aborted: timed out/) : Promise.resolve()));

    // About 6 s of input (the pacer catches up after the 1.5 s stall): many checkpoints after 3.
    const result = await runDefinition(totals(sink, 10_000), {
      checkpoints: { root, config: { intervalMs: 50, timeoutMs: 1_500 } },
      log: (line) => {
        log.push(line);
        for (const w of waiters) w();
      },
      onCheckpoint: (c) => completed.push({ id: c.id, final: c.final }),
    });

    expect(result.outcome).toBe("finished");
    // Checkpoint 2 timed out and 3 was declined by the keyed task (ENOENT from the dangling file).
    expect(log).toContainEqual("checkpoint 2 aborted: timed out after 1500 ms");
    expect(log.find((l) => l.startsWith("checkpoint 3 aborted: "))).toMatch(/^checkpoint 3 aborted: declined by .*ENOENT/);
    // Neither is listed nor left on disk; checkpoints after them completed, the last one final.
    const ids = completed.map((c) => c.id);
    expect(ids).not.toContain(2);
    expect(ids).not.toContain(3);
    expect(completed.some((c) => c.id > 3 && !c.final)).toBe(true);
    expect(completed[completed.length - 1]!.final).toBe(true);
    const onDisk = await listCheckpointIds(root, JOB);
    expect(onDisk).not.toContain(2);
    expect(onDisk).not.toContain(3);
    expect(existsSync(checkpointPath(root, JOB, 2))).toBe(false);
    expect(existsSync(checkpointPath(root, JOB, 3))).toBe(false);
    for (const id of onDisk) expect((await readMetadata(checkpointPath(root, JOB, id))).id).toBe(id);

    // Exactly once: the committed output equals the straight run's, as a multiset.
    expect((await committedLines(out)).sort()).toEqual(expected);
  }, 120_000);
});
