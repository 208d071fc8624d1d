/**
 * rescale, broadcast and partitionCustom with subtasks on worker threads (`weir run --workers 2`,
 * channels across threads as shared-memory rings): every record arrives once per edge (broadcast:
 * once per downstream subtask), the same as the single-loop runtime.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, runOrKill } from "./support/weir-process.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-partitioning-workers-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const every = Array.from({ length: 4 * 500 }, (_, k) => `${Math.floor(k / 500)}:${k % 500}`).sort();

const run = async (workers: number) => {
  const out = join(tmp, `out-${workers}`);
  const exit = await runOrKill([
    "run",
    "test/fixtures/partitioning-job.ts",
    "--parallelism",
    "2",
    "--workers",
    String(workers),
    "--checkpoint-interval",
    "100ms",
    "--checkpoint-dir",
    join(tmp, `chk-${workers}`),
    "--param",
    `out=${out}`,
    "--no-progress",
  ]);
  expect(exit.code, exit.stderr).toBe(0);
  const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as { edge: string; split: number; i: number });
  return { wide: parse(await committedLines(join(out, "wide"))), narrow: parse(await committedLines(join(out, "narrow"))) };
};

describe("partitioning on worker threads", () => {
  it("delivers every record once per edge (broadcast: once per subtask) with --workers 2, as with --workers 0", async () => {
    for (const workers of [2, 0]) {
      const { wide, narrow } = await run(workers);
      const of = (edge: string, rs: typeof wide) => rs.filter((r) => r.edge === edge).map((r) => `${r.split}:${r.i}`).sort();
      expect(of("rescale", wide)).toEqual(every);
      expect(of("custom", wide)).toEqual(every);
      expect(of("broadcast", wide)).toEqual([...every, ...every, ...every].sort());
      expect(of("rescale-back", narrow)).toEqual(every);
    }
  }, 120_000);
});
