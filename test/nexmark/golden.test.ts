/**
 * Golden equality for every Nexmark query job, as real processes: run straight (parallelism
 * 1, no checkpoints), then run with 100 ms checkpoints on RocksDB at parallelism 2 and kill -9
 * it after its first completed checkpoint, resume at parallelism 3 and kill -9 it again after a
 * while, and finish at parallelism 1. The committed output must equal the straight run's (q4:
 * the last value per category, its output being a stream of updates).
 *
 * Deterministic event time makes this possible: each generator split is ordered in event time
 * and watermarks are tracked per split, so no record is late whatever the parallelism or the
 * restore point. The split count is fixed (`splits`, which defaults to the parallelism: a
 * checkpoint can only be resumed with the splits it was taken with).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, hasCompletedCheckpoint, hiddenFiles, runOrKill, runUntil } from "../support/weir-process.ts";

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-nexmark-golden-"));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const args = (query: string, out: string) => [
  "run",
  `jobs/nexmark/${query}.ts`,
  "--param",
  "events=30000",
  "--param",
  "eventRate=500",
  "--param",
  "rate=12000",
  "--param",
  "splits=4",
  "--param",
  `out=${out}`,
  "--no-progress",
];

/** What must be equal: all lines as a multiset, or for q4 the last update per category. */
const fingerprint = (query: string, lines: readonly string[]): unknown => {
  if (query !== "q4") return [...lines].sort();
  const last: Record<string, unknown> = {};
  for (const l of lines) {
    const r = JSON.parse(l) as { category: number; avg: number };
    last[r.category] = r.avg;
  }
  return last;
};

describe.each(["q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "qhc"])("golden output of Nexmark %s", (query) => {
  it("is the same straight, killed twice with kill -9 and restored at parallelism 3 then 1", async () => {
    const straightOut = join(tmp, `${query}-straight`);
    const straight = await runOrKill([...args(query, straightOut), "--checkpoint-dir", join(tmp, `${query}-s-chk`), "--checkpoint-interval", "off"]);
    expect(straight.code, straight.stderr).toBe(0);
    const expected = await committedLines(straightOut);
    expect(expected.length).toBeGreaterThan(query === "q7" ? 3 : 5);

    const out = join(tmp, `${query}-crashed`);
    const checkpoints = join(tmp, `${query}-c-chk`);
    const common = ["--checkpoint-dir", checkpoints, "--checkpoint-interval", "100ms"];
    const job = `nexmark-${query}`;
    const first = await runUntil([...args(query, out), ...common, "--parallelism", "2", "--state-backend", "rocksdb"], hasCompletedCheckpoint(checkpoints, job));
    expect(first.killedByUs, "the first run must be killed mid-way").toBe(true);
    const second = await runOrKill([...args(query, out), ...common, "--parallelism", "3"], 900);
    expect(second.code === 0 || second.killedByUs, second.stderr).toBe(true);
    const last = await runOrKill([...args(query, out), ...common, "--parallelism", "1"]);
    expect(last.code, last.stderr).toBe(0);

    const got = await committedLines(out);
    expect(fingerprint(query, got)).toEqual(fingerprint(query, expected));
    expect(await hiddenFiles(out)).toEqual([]);
  }, 90_000);
});
