/**
 * Exactly-once end to end, proven by crashing real processes: `weir run` of a bounded keyed job
 * with the exactly-once file sink is killed with SIGKILL at random moments (a schedule drawn from
 * a fast-check seed, printed on failure) and at every protocol failpoint, and restarted (at
 * varying parallelism) until it finishes. Its committed output must equal a failure-free run's:
 * the same multiset, the same per-key order, nothing lost, nothing duplicated, and no
 * uncommitted files left behind.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { FAILPOINTS } from "../common/failpoints.ts";
import { committedLines, hasCompletedCheckpoint, hiddenFiles, runOrKill, runUntil, sequencesBy } from "./support/weir-process.ts";

const EVENTS = 36_000;
const RATE = 15_000; // events/s: a full run processes for ~2.4 s, so most scheduled kills land mid-run
/** `workers` undefined: the default (the cores, at most the parallelism; none at parallelism 1). */
const jobArgs = (out: string, checkpoints: string, parallelism: number, workers?: number) => [
  "run",
  "jobs/account-totals.ts",
  "--param",
  `events=${EVENTS}`,
  "--param",
  "accounts=300",
  "--param",
  `rate=${RATE}`,
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
  tmp = await mkdtemp(join(tmpdir(), "weir-crash-"));
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

/** Restarts until the job exits 0 (at most `limit` more runs); returns the number of runs. */
const finish = async (out: string, checkpoints: string, parallelism: number, limit = 5): Promise<void> => {
  for (let i = 0; i < limit; i++) {
    const exit = await runOrKill(jobArgs(out, checkpoints, parallelism));
    if (exit.code === 0) return;
    throw new Error(`restart exited with ${exit.code ?? exit.signal}: ${exit.stderr}`);
  }
};

const expectExactlyOnce = async (out: string) => {
  const got = await committedLines(out);
  expect(got.length, "records committed").toBe(expected.length);
  expect([...got].sort()).toEqual([...expected].sort());
  expect(sequencesBy(got, "account")).toEqual(sequencesBy(expected, "account"));
  expect(await hiddenFiles(out), "uncommitted files left behind").toEqual([]);
};

describe("crash recovery (SIGKILL)", () => {
  it("random kills at random moments, restarting at varying parallelism and worker counts, commit exactly the failure-free output", async () => {
    let kills = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ afterMs: fc.integer({ min: 120, max: 1_000 }), parallelism: fc.integer({ min: 1, max: 3 }), workers: fc.integer({ min: 0, max: 3 }) }),
          { minLength: 7, maxLength: 7 },
        ),
        fc.integer({ min: 1, max: 3 }),
        async (schedule, finalParallelism) => {
          const id = runCounter++;
          const out = join(tmp, `random-${id}`);
          const checkpoints = join(tmp, `random-${id}-chk`);
          // Each run at its own parallelism and number of worker threads (0: the main thread's loop).
          for (const { afterMs, parallelism, workers } of schedule) {
            const exit = await runOrKill(jobArgs(out, checkpoints, parallelism, workers), afterMs);
            if (exit.killedByUs) kills++;
            else expect(exit.code, exit.stderr).toBe(0);
          }
          await finish(out, checkpoints, finalParallelism);
          await expectExactlyOnce(out);
        },
      ),
      { numRuns: 3, endOnFailure: true },
    );
    // The schedules must really have crashed the job (21 attempts), not let it finish first.
    expect(kills).toBeGreaterThanOrEqual(15);
  }, 240_000);

  it.each(FAILPOINTS.filter((f) => f !== "restore"))(
    "dies at failpoint '%s' (SIGKILL by itself) and recovers to exactly the failure-free output",
    async (name) => {
      const out = join(tmp, `fp-${name}`);
      const checkpoints = join(tmp, `fp-${name}-chk`);
      // On two worker threads (the failpoint's count is per thread): every failpoint but
      // after-metadata is reached in a worker, and the SIGKILL takes the whole process.
      const exit = await runOrKill(jobArgs(out, checkpoints, 2, 2), undefined, { WEIR_FAILPOINT: `${name}@3` });
      expect(exit.signal, exit.stderr).toBe("SIGKILL");
      expect(exit.stderr).toContain(`failpoint '${name}' reached`);
      await finish(out, checkpoints, 3);
      await expectExactlyOnce(out);
    },
    60_000,
  );

  it("dies during restore, and the next run restores and finishes exactly once", async () => {
    const out = join(tmp, "fp-restore");
    const checkpoints = join(tmp, "fp-restore-chk");
    const first = await runUntil(jobArgs(out, checkpoints, 2), hasCompletedCheckpoint(checkpoints, "account-totals"));
    expect(first.killedByUs, "the first run must be cut short after a checkpoint").toBe(true);
    const exit = await runOrKill(jobArgs(out, checkpoints, 2, 2), undefined, { WEIR_FAILPOINT: "restore" });
    expect(exit.signal, exit.stderr).toBe("SIGKILL");
    expect(exit.stderr).toContain("failpoint 'restore' reached");
    await finish(out, checkpoints, 2);
    await expectExactlyOnce(out);
  }, 60_000);
});
