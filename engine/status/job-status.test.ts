import { describe, expect, it } from "vitest";
import type { CompletedCheckpoint } from "../../checkpoint/driver.ts";
import { userError } from "../../common/errors.ts";
import { discard, generator, job } from "../../index.ts";
import { buildJob } from "../job.ts";
import { newJobMetrics } from "../metrics.ts";
import { paramsFrom } from "../params.ts";
import { planJob } from "../plan.ts";
import { newTaskMetrics } from "../task-metrics.ts";
import { JobStatus } from "./job-status.ts";
import { backpressureLevel, checkpointDetails, checkpointsView, exceptionsView, jobDetails, vertexBackpressure, vertexWatermarks } from "./flink-views.ts";

/** source (p=2) -> keyBy -> reduce -> sink (p=2): two vertices, a HASH edge between them. */
const plan = () =>
  planJob(
    buildJob(
      job("status-test", (env) => {
        env
          .source(generator({ splits: 2, recordsPerSplit: 10, generate: ({ index }) => ({ k: index % 3, v: 1 }) }), { name: "numbers" })
          .keyBy((r) => r.k)
          .reduce((a, b) => ({ k: a.k, v: a.v + b.v }), { name: "sum" })
          .sink(discard(), { name: "out" });
      }),
      { params: paramsFrom({}), parallelism: 2 },
    ),
  );

const completed = (id: number, triggeredAt: number, durationMs: number, bytes: number): CompletedCheckpoint => ({
  id,
  durationMs,
  bytes,
  newBytes: bytes / 2,
  final: false,
  triggeredAt,
  completedAt: triggeredAt + durationMs,
  stateBytes: { sum: bytes },
  tasks: [
    { task: "0-0", durationMs, syncMs: 1, asyncMs: 2, asyncBlockingMs: 0, alignmentMs: 0, bytes: 0, newBytes: 0 },
    { task: "1-0", durationMs, syncMs: 2, asyncMs: durationMs - 20, asyncBlockingMs: 1, alignmentMs: 7, bytes: bytes / 2, newBytes: bytes / 4 },
    { task: "1-1", durationMs: durationMs - 5, syncMs: 3, asyncMs: 50, asyncBlockingMs: 1, alignmentMs: 4, bytes: bytes / 2, newBytes: bytes / 4 },
  ],
});

describe("JobStatus", () => {
  it("lists the plan's chains as vertices with stable ids and Flink's ship strategies", () => {
    const a = new JobStatus(plan(), 0);
    const b = new JobStatus(plan(), 0);
    expect(a.vertices.map((v) => [v.name, v.kind, v.parallelism])).toEqual([
      ["numbers", "source", 2],
      ["sum -> out", "sink", 2],
    ]);
    expect(a.vertices.map((v) => v.id)).toEqual(b.vertices.map((v) => v.id)); // same job, same ids
    expect(a.id).not.toBe(b.id); // each run its own job id
    expect(a.vertices[0]!.id).toMatch(/^[0-9a-f]{32}$/);
    expect(a.vertices[1]!.inputs).toEqual([{ vertex: a.vertices[0]!.id, ship: "HASH" }]);
  });

  it("names every partitioning by Flink's ship strategy", () => {
    const shipped = planJob(
      buildJob(
        job("ships", (env) => {
          const s = env.source(generator({ splits: 2, recordsPerSplit: 1, generate: ({ index }) => index }), { name: "src" });
          const wide = { parallelism: 3 };
          s.rescale().map((x) => x, { name: "rescaled", ...wide }).sink(discard(), { name: "o1", ...wide });
          s.broadcast().map((x) => x, { name: "broadcast" }).sink(discard(), { name: "o2" });
          s.partitionCustom((k: number, n) => k % n, (x) => x).map((x) => x, { name: "custom" }).sink(discard(), { name: "o3" });
          s.rebalance().map((x) => x, { name: "rebalanced" }).sink(discard(), { name: "o4" });
          s.map((x) => x, { name: "forward-wide", ...wide }).sink(discard(), { name: "o5", ...wide });
          s.rescale().map((x) => x, { name: "rescaled-same" }).sink(discard(), { name: "o6" });
        }),
        { params: paramsFrom({}), parallelism: 2 },
      ),
    );
    const ships = new JobStatus(shipped, 0).vertices.slice(1).map((v) => [v.name.split(" ")[0], v.inputs[0]!.ship]);
    expect(ships).toEqual([
      ["rescaled", "RESCALE"],
      ["broadcast", "BROADCAST"],
      ["custom", "CUSTOM"],
      ["rebalanced", "REBALANCE"],
      ["forward-wide", "REBALANCE"],
      ["rescaled-same", "RESCALE"],
    ]);
  });

  it("names a vertex by its operators' display names and keeps their uids apart", () => {
    const renamed = planJob(
      buildJob(
        job("uid-test", (env) => {
          env
            .source(generator({ splits: 1, recordsPerSplit: 1, generate: ({ index }) => index }), { uid: "src", name: "Numbers" })
            .map((n) => n + 1, { uid: "plus-one" })
            .sink(discard(), { name: "out" });
        }),
        { params: paramsFrom({}), parallelism: 1 },
      ),
    );
    const [vertex] = new JobStatus(renamed, 0).vertices;
    expect(vertex!.name).toBe("Numbers -> plus-one -> out");
    expect(vertex!.operators).toEqual(["src", "plus-one", "out"]);
  });

  it("turns two samples of the counters into rates and Flink's time ratios", () => {
    const status = new JobStatus(plan(), 1_000);
    const metrics = newJobMetrics(1_000);
    const t = newTaskMetrics(1, 0, 1_000);
    metrics.tasks.push(t);
    status.attemptStarted(metrics, 2_000);
    t.recordsIn = 5_000;
    t.recordsOut = 0;
    t.idleMs = 100;
    t.backpressuredMs = 600;
    status.sample(4_000); // 2 s later
    const view = status.subtask(1, 0)!;
    expect(view.recordsInPerSecond).toBe(2_500);
    expect(view.idleRatio).toBeCloseTo(0.05);
    expect(view.backpressuredRatio).toBeCloseTo(0.3);
    expect(view.busyRatio).toBeCloseTo(0.65);
    const bp = vertexBackpressure(status, status.vertices[1]!, 4_000) as { backpressureLevel: string; subtasks: { ratio: number; backpressureLevel: string }[] };
    expect(bp.backpressureLevel).toBe("low");
    expect(bp.subtasks[0]).toMatchObject({ ratio: 0.3, backpressureLevel: "low" });
    // The counters of a sample are copies: later changes show only in the next sample.
    t.recordsIn = 9_999;
    expect(status.subtask(1, 0)!.metrics.recordsIn).toBe(5_000);
  });

  it("keeps idle + backpressured + busy at 1 when the subtask's own times overrun the sample interval", () => {
    const status = new JobStatus(plan(), 1_000);
    const metrics = newJobMetrics(1_000);
    const t = newTaskMetrics(1, 0, 1_000);
    metrics.tasks.push(t);
    status.attemptStarted(metrics, 2_000);
    t.recordsIn = 10;
    t.idleMs = 1_320; // the subtask's clock saw 2.2 s in a 2 s sample
    t.backpressuredMs = 880;
    status.sample(4_000);
    const view = status.subtask(1, 0)!;
    expect(view.idleRatio! + view.backpressuredRatio! + view.busyRatio!).toBeCloseTo(1, 10);
    expect(view.idleRatio).toBeCloseTo(0.6);
    expect(view.backpressuredRatio).toBeCloseTo(0.4);
    expect(view.busyRatio).toBeCloseTo(0, 10);
  });

  it("gives no rate across a restart (the new attempt's counters start from 0)", () => {
    const status = new JobStatus(plan(), 0);
    const first = newJobMetrics(0);
    first.tasks.push({ ...newTaskMetrics(0, 0, 0), recordsOut: 1_000 });
    status.attemptStarted(first, 0);
    status.attemptFailed(new Error("boom"), true, 500);
    expect(status.state).toBe("RESTARTING");
    const second = newJobMetrics(600);
    const t = newTaskMetrics(0, 0, 600);
    second.tasks.push(t);
    status.attemptStarted(second, 600);
    expect(status.subtask(0, 0)!.recordsOutPerSecond).toBeUndefined();
    t.recordsOut = 10;
    status.sample(1_600);
    expect(status.subtask(0, 0)!.recordsOutPerSecond).toBe(10);
    expect(status.restarts).toBe(1);
    expect(status.state).toBe("RUNNING");
  });

  it("keeps the checkpoint history, counts and summary as Flink reports them", () => {
    const status = new JobStatus(plan(), 0);
    status.checkpointTriggered(1, 100);
    status.checkpointCompleted(completed(1, 100, 40, 1_000));
    status.checkpointTriggered(2, 200);
    status.checkpointAborted(2, "expired before completing", 900);
    status.checkpointTriggered(3, 1_000);
    status.checkpointCompleted(completed(3, 1_000, 80, 3_000));
    status.checkpointTriggered(4, 2_000);
    const view = checkpointsView(status) as {
      counts: Record<string, number>;
      summary: { state_size: Record<string, number>; end_to_end_duration: Record<string, number> };
      latest: { completed: { id: number }; failed: { id: number; failure_message: string } };
      history: { id: number; status: string; "@class": string; alignment_duration: number; sync_duration: number }[];
    };
    expect(view.counts).toEqual({ restored: 0, total: 4, in_progress: 1, completed: 2, failed: 1 });
    expect(view.summary.state_size).toMatchObject({ min: 1_000, max: 3_000, avg: 2_000 });
    expect(view.summary.end_to_end_duration).toMatchObject({ min: 40, max: 80, p50: 40 });
    expect(view.latest.completed.id).toBe(3);
    expect(view.latest.failed).toMatchObject({ id: 2, failure_message: "expired before completing" });
    expect(view.history.map((h) => [h.id, h.status, h["@class"]])).toEqual([
      [4, "IN_PROGRESS", "in_progress"],
      [3, "COMPLETED", "completed"],
      [2, "FAILED", "failed"],
      [1, "COMPLETED", "completed"],
    ]);
    expect(view.history[1]).toMatchObject({ alignment_duration: 7, sync_duration: 3 });
    expect(status.stateBytes).toEqual({ sum: 3_000 });
    // A savepoint copied from checkpoint 3 marks it and is the latest savepoint.
    status.savepointTaken(3, "/backups/savepoint-status-test-chk3-ab", 1_500);
    const after = checkpointsView(status) as { latest: { savepoint: { id: number; is_savepoint: boolean; external_path: string } }; history: { id: number; is_savepoint: boolean }[] };
    expect(after.latest.savepoint).toMatchObject({ id: 3, is_savepoint: true, external_path: "/backups/savepoint-status-test-chk3-ab" });
    expect(after.history.filter((h) => h.is_savepoint).map((h) => h.id)).toEqual([3]);
    // Per vertex and subtask, with the alignment and the synchronous and asynchronous parts.
    const details = checkpointDetails(status, status.checkpoints[1]!) as { tasks: Record<string, { num_acknowledged_subtasks: number; state_size: number; subtasks: unknown[] }> };
    const sink = details.tasks[status.vertices[1]!.id]!;
    expect(sink.num_acknowledged_subtasks).toBe(2);
    expect(sink.state_size).toBe(3_000);
    expect(sink.subtasks).toContainEqual(expect.objectContaining({ index: 1, alignment: { duration: 4 }, checkpoint: { sync: 3, async: 50, async_blocking: 1 } }));
    // Ending the job fails what is still in progress.
    status.ended("stopped", 3_000);
    expect(status.state).toBe("FINISHED");
    expect(status.counts).toEqual({ total: 4, inProgress: 0, completed: 2, failed: 2 });
  });

  it("records exceptions newest first, with a WeirError's code, domain, retriability and operator", () => {
    const status = new JobStatus(plan(), 0);
    status.attemptFailed(new Error("socket closed"), true, 10);
    status.attemptFailed(userError("BAD_RECORD", "record 7 has no key", { operator: "sum" }), false, 20);
    status.ended("failed", 20);
    const view = exceptionsView(status) as { "root-exception": string; exceptionHistory: { entries: Record<string, unknown>[] } };
    expect(view["root-exception"]).toContain("record 7 has no key");
    expect(view.exceptionHistory.entries.map((e) => [e["exceptionName"], e["taskName"], e["domain"], e["retriable"], e["restarted"]])).toEqual([
      ["BAD_RECORD", "sum", "user", false, false],
      ["Error", null, null, null, true],
    ]);
    expect(status.state).toBe("FAILED");
    expect((jobDetails(status, 30) as { "end-time": number; duration: number })["duration"]).toBe(20);
  });

  it("reports each subtask's last watermark", () => {
    const status = new JobStatus(plan(), 0);
    const metrics = newJobMetrics(0);
    metrics.tasks.push({ ...newTaskMetrics(0, 0, 0), watermark: 1_700 }, newTaskMetrics(0, 1, 0));
    status.attemptStarted(metrics, 0);
    expect(vertexWatermarks(status, status.vertices[0]!)).toEqual([
      { id: "0.currentInputWatermark", value: "1700" },
      { id: "0.currentOutputWatermark", value: "1700" },
      { id: "1.currentInputWatermark", value: String(Number.MIN_SAFE_INTEGER) },
      { id: "1.currentOutputWatermark", value: String(Number.MIN_SAFE_INTEGER) },
    ]);
  });

  it("uses Flink's backpressure thresholds", () => {
    expect([0, 0.1, 0.11, 0.5, 0.51, 1].map(backpressureLevel)).toEqual(["ok", "ok", "low", "low", "high", "high"]);
  });
});
