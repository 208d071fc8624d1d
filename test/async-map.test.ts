/**
 * asyncMap in running jobs: a fake async lookup with random delays, run straight, and stopped
 * with a checkpoint while lookups are in flight, then restored (at another parallelism) from it:
 * the two runs together commit every record's result exactly once, in split order.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointPath, highestCompletedCheckpointId, readMetadata } from "../checkpoint/storage.ts";
import { generator } from "../connectors/generator-source.ts";
import { job } from "../engine/job.ts";
import { planJob } from "../engine/plan.ts";
import { buildJob } from "../engine/job.ts";
import { paramsFrom } from "../engine/params.ts";
import { restorePlanFrom } from "../engine/restore-plan.ts";
import { monotonousTimestamps } from "../engine/watermarks.ts";
import { outputTag } from "../operators/side-output.ts";
import { tumblingEventTimeWindows } from "../operators/window/windows.ts";
import { collectSink, runDefinition, type CollectSink } from "./support/run.ts";

interface Rec {
  readonly split: number;
  readonly index: number;
}
interface Looked extends Rec {
  readonly name: string;
}

const SPLITS = 2;
const PER_SPLIT = 400;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-async-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A lookup that answers after 1–15 ms (varying per record, so completions overtake each other). */
const lookupJob = (sink: CollectSink<Looked>, calls: Rec[], options: { ordered: boolean; ratePerSecond?: number }) =>
  job("async-lookup", (env) => {
    env
      .source(
        generator({
          splits: SPLITS,
          recordsPerSplit: PER_SPLIT,
          ...(options.ratePerSecond === undefined ? {} : { ratePerSecond: options.ratePerSecond }),
          generate: ({ split, index }): Rec => ({ split, index }),
        }),
        { name: "src" },
      )
      .asyncMap(
        async (r: Rec): Promise<Looked> => {
          calls.push(r);
          await new Promise((resolve) => setTimeout(resolve, 1 + ((r.index * 7 + r.split * 3) % 15)));
          return { ...r, name: `user-${r.split}-${r.index}` };
        },
        { name: "lookup", capacity: 20, ordered: options.ordered, timeout: "10s" },
      )
      .sink(sink, { name: "out" });
  });

const all = (): string[] =>
  Array.from({ length: SPLITS }, (_, split) => Array.from({ length: PER_SPLIT }, (_, index) => `user-${split}-${index}`))
    .flat()
    .sort();

/** The committed names of each split, in commit order. */
const bySplit = (records: readonly Looked[]) => {
  const out: number[][] = Array.from({ length: SPLITS }, () => []);
  for (const r of records) out[r.split]!.push(r.index);
  return out;
};

describe("asyncMap in a running job", () => {
  it("is planned as its own task behind a source, and chains with what follows it", () => {
    const plan = planJob(buildJob(lookupJob(collectSink<Looked>("out"), [], { ordered: true }), { params: paramsFrom({}), parallelism: 1 }));
    expect(plan.chains.map((c) => c.name)).toEqual(["src", "lookup -> out"]);
  });

  it.each([true, false])("a straight run (ordered: %s) emits every result once; ordered keeps each split's order", async (ordered) => {
    const sink = collectSink<Looked>("out");
    const calls: Rec[] = [];
    await runDefinition(lookupJob(sink, calls, { ordered }), { parallelism: 2, checkpoints: { root: join(tmp, `straight-${ordered}`), config: { intervalMs: 20 } } });
    expect(sink.all().map((r) => r.name).sort()).toEqual(all());
    expect(calls).toHaveLength(SPLITS * PER_SPLIT);
    if (ordered) for (const indices of bySplit(sink.all())) expect(indices).toEqual([...indices].sort((a, b) => a - b));
  });

  it.each([true, false])("no watermark overtakes a record (ordered: %s): an event-time window behind asyncMap sees no late record", async (ordered) => {
    const late = outputTag<Looked>("late");
    const counts = collectSink<string>("counts");
    const lateSink = collectSink<Looked>("late");
    await runDefinition(
      job("async-event-time", (env) => {
        const windows = env
          .source(generator({ splits: SPLITS, recordsPerSplit: PER_SPLIT, generate: ({ split, index }): Rec => ({ split, index }) }), {
            name: "src",
            watermarks: monotonousTimestamps((r: Rec) => r.index),
          })
          .asyncMap(
            async (r: Rec): Promise<Looked> => {
              await new Promise((resolve) => setTimeout(resolve, (r.index * 7 + r.split * 3) % 15));
              return { ...r, name: `user-${r.split}-${r.index}` };
            },
            { name: "lookup", capacity: 30, ordered },
          )
          .keyBy((r) => r.split)
          .window(tumblingEventTimeWindows(50), { timestamp: (r) => r.index, lateData: late })
          .aggregate({ createAccumulator: () => 0, add: (_r, n: number) => n + 1, getResult: (n: number) => n }, (n, w) => `${w.key}@${w.window.start}=${n}`, {
            name: "count",
          });
        windows.sink(counts, { name: "counts" });
        windows.sideOutput(late).sink(lateSink, { name: "late" });
      }),
      { parallelism: 2, checkpoints: { root: join(tmp, `event-time-${ordered}`), config: { intervalMs: 20 } } },
    );
    expect(lateSink.all()).toEqual([]);
    const expected = Array.from({ length: SPLITS }, (_, split) => Array.from({ length: PER_SPLIT / 50 }, (_, w) => `${split}@${w * 50}=50`)).flat();
    expect(counts.all().sort()).toEqual(expected.sort());
  });

  it.each([
    [2, 2, true],
    [2, 3, true],
    [2, 1, false],
  ])(
    "stopped with a checkpoint while lookups are in flight at parallelism %i and restored at %i (ordered: %s): every result is committed exactly once, the ones in flight by a new call",
    async (before, after, ordered) => {
      const root = join(tmp, `stop-${before}-${after}-${ordered}`);
      const first = collectSink<Looked>("out");
      const stop = new AbortController();
      const running = runDefinition(lookupJob(first, [], { ordered, ratePerSecond: 1000 }), {
        parallelism: before,
        stopSignal: stop.signal,
        checkpoints: { root, config: { intervalMs: 25 } },
      });
      const deadline = Date.now() + 20_000;
      while (first.written.flat().length < 150 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      stop.abort();
      expect((await running).outcome).toBe("stopped");
      const committedBefore = first.all();
      expect(committedBefore.length).toBeGreaterThan(0);
      expect(committedBefore.length).toBeLessThan(SPLITS * PER_SPLIT);

      const id = await highestCompletedCheckpointId(root, "async-lookup");
      const dir = checkpointPath(root, "async-lookup", id);
      const metadata = await readMetadata(dir);
      const positions: Record<string, number> = {};
      for (const t of metadata.tasks) for (const s of t.sources) Object.assign(positions, s.positions);
      const plan = restorePlanFrom(metadata, dir);
      const second = collectSink<Looked>("out");
      const calls: Rec[] = [];
      await runDefinition(lookupJob(second, calls, { ordered }), {
        parallelism: after,
        // The stop checkpoint's output was committed by the first run.
        checkpoints: { root: join(root, "restored"), restore: { ...plan, committables: new Map(), maxParallelism: 128 } },
      });
      // Records the source had read before the checkpoint but whose results were not emitted yet
      // were stored with it and looked up again.
      const reissued = calls.filter((r) => r.index < positions[`split-${r.split}`]!);
      expect(reissued.length).toBeGreaterThan(0);
      expect([...committedBefore, ...second.all()].map((r) => r.name).sort()).toEqual(all());
      if (ordered && before === after) {
        // At the same parallelism a split's records (restored and new) stay with one subtask: in
        // order in each run. (Rescaled, a split's restored records may go to other subtasks than
        // its new ones, as with Flink's redistributed operator state.)
        for (const indices of [...bySplit(committedBefore), ...bySplit(second.all())]) expect(indices).toEqual([...indices].sort((a, b) => a - b));
      }
    },
    30_000,
  );
});
