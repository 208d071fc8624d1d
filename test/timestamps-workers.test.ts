/**
 * Record timestamps through `weir run` (test/fixtures/timestamps-job.ts): an event-time window and
 * an interval join without timestamp options, fed through map/filter/flatMap/keyBy at parallelism
 * 2 with subtasks on worker threads (channels across threads carry the timestamps), commit what
 * the same job with explicit timestamp functions commits; and a run killed after a checkpoint and
 * resumed commits the same again (timestamps are not state: records after the checkpoint are read
 * again with theirs).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, hasCompletedCheckpoint, runOrKill, runUntil } from "./support/weir-process.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-timestamps-workers-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const args = (name: string, workers: number, params: readonly string[]) => [
  "run",
  "test/fixtures/timestamps-job.ts",
  "--parallelism",
  "2",
  "--workers",
  String(workers),
  "--checkpoint-interval",
  "100ms",
  "--checkpoint-dir",
  join(tmp, `chk-${name}`),
  "--param",
  `out=${join(tmp, `out-${name}`)}`,
  ...params.flatMap((p) => ["--param", p]),
  "--no-progress",
];

const outputOf = async (name: string) => ({
  windows: (await committedLines(join(tmp, `out-${name}`, "windows"))).sort(),
  joined: (await committedLines(join(tmp, `out-${name}`, "joined"))).sort(),
});

const run = async (name: string, workers: number, params: readonly string[]) => {
  const exit = await runOrKill(args(name, workers, params));
  expect(exit.code, exit.stderr).toBe(0);
  return outputOf(name);
};

describe("record timestamps across worker threads", () => {
  it("windows and an interval join without timestamp options commit what explicit timestamps commit (--workers 2 and 0)", async () => {
    const explicit = await run("explicit", 2, ["explicit=on"]);
    // Every key's windows over t in [0, ~805), and pairs: the job does produce output to compare.
    expect(explicit.windows.length).toBeGreaterThan(100);
    expect(explicit.joined.length).toBeGreaterThan(100);
    expect(await run("carried-threads", 2, [])).toEqual(explicit);
    expect(await run("carried-loop", 0, [])).toEqual(explicit);
  }, 120_000);

  it("a run killed after a checkpoint and resumed commits the same windows and pairs", async () => {
    const straight = await run("straight", 0, []);
    const killed = await runUntil(args("resumed", 2, ["rate=400"]), hasCompletedCheckpoint(join(tmp, "chk-resumed"), "timestamps"));
    expect(killed.killedByUs, killed.stderr).toBe(true);
    const resumed = await runOrKill(args("resumed", 2, []));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming 'timestamps' from checkpoint \d+/);
    expect(await outputOf("resumed")).toEqual(straight);
  }, 120_000);
});
