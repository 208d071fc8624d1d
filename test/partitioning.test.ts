/**
 * Partitioning through the whole runtime (runDefinition): rescale, broadcast, rebalance and
 * partitionCustom across parallelism changes deliver every record exactly once (broadcast: once
 * per consumer subtask) to the subtasks their edge allows, and a checkpointed run restores with
 * another parallelism without loss or duplicates.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generator, job } from "../index.ts";
import { checkpointPath, listCheckpointIds, readMetadata } from "../checkpoint/storage.ts";
import { rescaleTargets } from "../engine/edge-wiring.ts";
import { restorePlanFrom } from "../engine/restore-plan.ts";
import { collectSink, multiset, runDefinition } from "./support/run.ts";

interface Rec {
  readonly split: number;
  readonly i: number;
}

const SPLITS = 6;
const PER_SPLIT = 200;
const records = (rate?: number) =>
  generator<Rec>({ splits: SPLITS, recordsPerSplit: PER_SPLIT, generate: ({ split, index }) => ({ split, i: index }), ...(rate === undefined ? {} : { ratePerSecond: rate }) });
const everyRecord = multiset(Array.from({ length: SPLITS * PER_SPLIT }, (_, k) => ({ split: Math.floor(k / PER_SPLIT), i: k % PER_SPLIT })));
/** The source subtask (of `p`) that reads split `split` (engine/split-assignment.ts: sorted ids, k mod p). */
const sourceSubtaskOf = (split: number, p: number) => split % p;

type Edge = "rescale" | "broadcast" | "rebalance" | "custom";
const byI = (k: number, n: number) => k % n;

const partitionedJob = (edge: Edge, p: number, q: number, sink: ReturnType<typeof collectSink<Rec>>, rate?: number) =>
  job(`partition-${edge}`, (env) => {
    const s = env.source(records(rate), { name: "src", parallelism: p });
    const routed = edge === "custom" ? s.partitionCustom(byI, (r) => r.i) : s[edge]();
    routed.map((r) => r, { name: "pass", parallelism: q }).sink(sink, { name: "out", parallelism: q });
  });

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-partitioning-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("partitioning in the runtime", () => {
  const shapes = [
    [2, 3],
    [3, 2],
    [2, 2],
  ] as const;

  for (const [p, q] of shapes) {
    it(`rescale ${p} -> ${q}: every record once, on a subtask of its producer's share`, async () => {
      const sink = collectSink<Rec>();
      await runDefinition(partitionedJob("rescale", p, q, sink), { batchSize: 16 });
      expect(multiset(sink.all())).toEqual(everyRecord);
      for (let j = 0; j < q; j++) {
        for (const r of sink.committed[j] ?? []) expect(rescaleTargets(sourceSubtaskOf(r.split, p), p, q)).toContain(j);
      }
      // Batches spread over the share: with p < q every consumer receives something.
      for (let j = 0; j < q; j++) expect((sink.committed[j] ?? []).length).toBeGreaterThan(0);
    });

    it(`broadcast ${p} -> ${q}: every consumer subtask gets every record once`, async () => {
      const sink = collectSink<Rec>();
      await runDefinition(partitionedJob("broadcast", p, q, sink), { batchSize: 16 });
      expect(sink.committed).toHaveLength(q);
      for (let j = 0; j < q; j++) expect(multiset(sink.committed[j]!)).toEqual(everyRecord);
    });

    it(`partitionCustom ${p} -> ${q}: every record once, on the subtask the partitioner chose`, async () => {
      const sink = collectSink<Rec>();
      await runDefinition(partitionedJob("custom", p, q, sink), { batchSize: 16 });
      expect(multiset(sink.all())).toEqual(everyRecord);
      for (let j = 0; j < q; j++) for (const r of sink.committed[j] ?? []) expect(byI(r.i, q)).toBe(j);
    });

    it(`rebalance ${p} -> ${q}: every record once`, async () => {
      const sink = collectSink<Rec>();
      await runDefinition(partitionedJob("rebalance", p, q, sink), { batchSize: 16 });
      expect(multiset(sink.all())).toEqual(everyRecord);
    });
  }

  it("a partitioner returning a partition out of range fails the job naming the operator and the value", async () => {
    const sink = collectSink<Rec>();
    const bad = job("bad-partition", (env) =>
      env
        .source(records(), { name: "src" })
        .partitionCustom((i: number) => (i === 7 ? 2 : 0), (r) => r.i)
        .map((r) => r, { name: "pass" })
        .sink(sink, { name: "out" }),
    );
    await expect(runDefinition(bad, { parallelism: 2 })).rejects.toMatchObject({
      code: "BAD_PARTITION",
      operator: "pass",
      message: expect.stringContaining("returned 2 for key 7"),
    });
  });

  for (const [edge, before, after] of [
    ["rescale", 3, 2],
    ["broadcast", 2, 3],
  ] as const) {
    it(`${edge}: a run stopped at a checkpoint and restored at another parallelism (${before} -> ${after} consumers) loses and repeats nothing`, async () => {
      const root = join(tmp, `chk-${edge}`);
      const first = collectSink<Rec>();
      const stop = new AbortController();
      // Paced so the stop (after the first completed checkpoint) comes well before the end.
      const stopped = await runDefinition(partitionedJob(edge, 2, before, first, 2_000), {
        batchSize: 8,
        stopSignal: stop.signal,
        checkpoints: { root, config: { intervalMs: 50 } },
        onCheckpoint: () => stop.abort(),
      });
      expect(stopped.outcome).toBe("stopped");
      const [last] = (await listCheckpointIds(root, `partition-${edge}`)).slice(-1);
      const dir = checkpointPath(root, `partition-${edge}`, last!);
      const metadata = await readMetadata(dir);
      const firstCount = first.all().length;
      expect(firstCount).toBeGreaterThan(0);
      expect(firstCount).toBeLessThan(SPLITS * PER_SPLIT * (edge === "broadcast" ? before : 1));

      const second = collectSink<Rec>();
      const restored = await runDefinition(partitionedJob(edge, 2, after, second), {
        batchSize: 8,
        checkpoints: {
          root: join(tmp, `chk-${edge}-2`),
          // The first run committed its last checkpoint's output before it stopped.
          restore: { ...restorePlanFrom(metadata, dir), committables: new Map(), maxParallelism: metadata.maxParallelism },
        },
      });
      expect(restored.outcome).toBe("finished");
      if (edge === "rescale") {
        expect(multiset([...first.all(), ...second.all()])).toEqual(everyRecord);
      } else {
        // Every record before the checkpoint reached each of the first run's consumers, every
        // record after it each of the second run's.
        const firstPerSubtask = first.committed.map((c) => multiset(c));
        for (const c of firstPerSubtask) expect(c).toEqual(firstPerSubtask[0]);
        for (let j = 0; j < after; j++) expect(multiset([...first.committed[0]!, ...second.committed[j]!])).toEqual(everyRecord);
      }
    });
  }
});
