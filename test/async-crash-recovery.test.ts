/**
 * Exactly-once across SIGKILL with async I/O in flight (the pattern of crash-recovery.test.ts):
 * `weir run jobs/async-enrich.ts` (an async lookup with up to 100 calls in flight per subtask) is
 * killed at random moments after a new checkpoint completed (so every restart restores one; a
 * schedule drawn from a fast-check seed, printed on failure),
 * restarted at varying parallelism and worker counts until it finishes, and its committed output
 * must equal a failure-free run's: the same multiset, nothing lost, nothing duplicated, no
 * uncommitted files left behind. The lookups in flight at each checkpoint are stored with it and
 * called again after the restore.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { committedLines, completedCheckpointIds, hiddenFiles, runOrKill, runUntil } from "./support/weir-process.ts";

const EVENTS = 12_000;
const RATE = 4_000; // events/s: a run takes ~3 s, so kills land mid-run

const jobArgs = (out: string, checkpoints: string, parallelism: number, workers?: number, ordered = true) => [
  "run",
  "jobs/async-enrich.ts",
  "--param",
  `events=${EVENTS}`,
  "--param",
  `rate=${RATE}`,
  "--param",
  `ordered=${ordered}`,
  "--param",
  `out=${out}`,
  "--checkpoint-dir",
  checkpoints,
  "--checkpoint-interval",
  "100ms",
  "--parallelism",
  String(parallelism),
  ...(workers === undefined ? [] : ["--workers", String(workers)]),
  "--no-progress",
];

let tmp: string;
let expected: string[];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-async-crash-"));
  const out = join(tmp, "expected");
  const exit = await runOrKill([...jobArgs(out, join(tmp, "expected-chk"), 1), "--checkpoint-interval", "off"]);
  expect(exit.code, exit.stderr).toBe(0);
  expected = await committedLines(out);
  expect(expected.length).toBe(EVENTS);
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let runCounter = 0;

/** Runs the job and kills it `extraMs` after it completed a checkpoint (unless it finishes first). */
const killAfterCheckpoint = async (args: readonly string[], checkpoints: string, extraMs: number) => {
  const before = (await completedCheckpointIds(checkpoints, "async-enrich")).at(-1) ?? 0;
  let seenAt: number | undefined;
  return runUntil(args, async () => {
    const last = (await completedCheckpointIds(checkpoints, "async-enrich")).at(-1) ?? 0;
    if (last <= before) return false;
    seenAt ??= Date.now();
    return Date.now() - seenAt >= extraMs;
  });
};

describe("crash recovery with async I/O in flight (SIGKILL)", () => {
  it("random kills at random moments, restarting at varying parallelism, commit exactly the failure-free output", async () => {
    let kills = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ afterMs: fc.integer({ min: 0, max: 400 }), parallelism: fc.integer({ min: 1, max: 3 }), workers: fc.integer({ min: 0, max: 2 }) }),
          { minLength: 3, maxLength: 3 },
        ),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        async (schedule, finalParallelism, ordered) => {
          const id = runCounter++;
          const out = join(tmp, `random-${id}`);
          const checkpoints = join(tmp, `random-${id}-chk`);
          for (const { afterMs, parallelism, workers } of schedule) {
            const exit = await killAfterCheckpoint(jobArgs(out, checkpoints, parallelism, workers, ordered), checkpoints, afterMs);
            if (exit.killedByUs) kills++;
            else expect(exit.code, exit.stderr).toBe(0);
          }
          const last = await runOrKill(jobArgs(out, checkpoints, finalParallelism, undefined, ordered));
          expect(last.code, last.stderr).toBe(0);
          const got = await committedLines(out);
          expect(got.length, "records committed").toBe(expected.length);
          expect([...got].sort()).toEqual([...expected].sort());
          expect(await hiddenFiles(out), "uncommitted files left behind").toEqual([]);
        },
      ),
      { numRuns: 2, endOnFailure: true },
    );
    // The schedules must really have crashed the job, not let it finish first.
    expect(kills).toBeGreaterThanOrEqual(4);
  }, 240_000);
});
