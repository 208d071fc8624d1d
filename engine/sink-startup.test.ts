/**
 * The sink steps before a run starts, with a real job plan and runs log: claim, then recover,
 * then the run is recorded; a claim is handed over as soon as it is taken, so the caller can
 * release it when a later step fails (and then no run is recorded).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { generator, job } from "../index.ts";
import { allRuns } from "../checkpoint/runs.ts";
import { userError } from "../common/errors.ts";
import type { Sink } from "../connectors/sink.ts";
import { collectSink } from "../test/support/run.ts";
import { buildJob } from "./job.ts";
import { paramsFrom } from "./params.ts";
import { planJob } from "./plan.ts";
import { startSinks } from "./sink-startup.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "weir-sink-startup-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A collecting sink that also claims and recovers, noting each step in `steps`. */
const stepSink = (steps: string[], recoverFails: boolean): Sink<number> => ({
  ...collectSink<number>("out"),
  claim: async (context) => {
    steps.push(`claim ${context.operatorName}`);
    return { release: async () => void steps.push("release") };
  },
  recover: async (_committables, context) => {
    steps.push(`recover ${context.operatorName}`);
    if (recoverFails) throw userError("TEST_RECOVER_FAILED", "recover failed");
  },
});

const planWith = (sink: Sink<number>) =>
  planJob(buildJob(job("startup", (env) => env.source(generator({ splits: 1, recordsPerSplit: 1, generate: ({ index }) => index })).sink(sink, { name: "out" })), { params: paramsFrom({}), parallelism: 2 }));

const start = (sink: Sink<number>, onClaimed: (c: { release(): Promise<void> }) => void) =>
  startSinks({
    plan: planWith(sink),
    root,
    runId: "r1",
    restore: undefined,
    highestCompleted: 0,
    fresh: false,
    duplicateOutput: "refuse",
    existingOutput: "refuse",
    now: () => 1234,
    log: () => undefined,
    onClaimed,
  });

it("claims, then recovers, then records the run with each sink's parallelism", async () => {
  const steps: string[] = [];
  const claims: { release(): Promise<void> }[] = [];
  await start(stepSink(steps, false), (c) => claims.push(c));
  expect(steps).toEqual(["claim out", "recover out"]);
  expect(claims).toHaveLength(1);
  expect(await allRuns(root, "startup")).toEqual([{ runId: "r1", startedAt: 1234, sinkParallelism: { out: 2 }, cleaned: false }]);
});

it("hands over the claim before a later step fails; the failed start records no run", async () => {
  const steps: string[] = [];
  const claims: { release(): Promise<void> }[] = [];
  await expect(start(stepSink(steps, true), (c) => claims.push(c))).rejects.toMatchObject({ code: "TEST_RECOVER_FAILED" });
  expect(claims).toHaveLength(1);
  await claims[0]!.release();
  expect(steps).toEqual(["claim out", "recover out", "release"]);
  expect(await allRuns(root, "startup")).toEqual([]);
});
