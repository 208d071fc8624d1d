/**
 * A state whose form changed between versions of a job, restored from a checkpoint of the old
 * version: refused before anything runs when the new declaration cannot read it (the message shows
 * the old and new declaration), migrated through its `migrate` function when it has one, at
 * another parallelism, with exactly-once output equal to a run that never changed.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, completedCheckpointIds, hasCompletedCheckpoint, runOrKill, runUntil } from "./support/weir-process.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-migration-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const args = (out: string, checkpoints: string, version: 1 | 2 | 3, parallelism: number, more: readonly string[] = []) => [
  "run",
  "test/fixtures/migrating-job.ts",
  "--param",
  `out=${out}`,
  "--param",
  `version=${version}`,
  "--checkpoint-dir",
  checkpoints,
  "--checkpoint-interval",
  "200ms",
  "--parallelism",
  String(parallelism),
  "--no-progress",
  "--no-ui",
  ...more,
];

describe("state migration", () => {
  it("refuses an incompatible change with the old and new declaration, and keys of another type; applies a declared migration on restore, exactly once", async () => {
    const straight = join(tmp, "straight");
    const s = await runOrKill(args(straight, join(tmp, "straight-chk"), 1, 1, ["--param", "rate=1000000"]));
    expect(s.code, s.stderr).toBe(0);
    const expected = (await committedLines(straight)).sort();
    expect(expected).toHaveLength(20_000);

    const out = join(tmp, "out");
    const checkpoints = join(tmp, "chk");
    const first = await runUntil(args(out, checkpoints, 1, 2), hasCompletedCheckpoint(checkpoints, "migrating"));
    expect(first.killedByUs).toBe(true);
    const before = await completedCheckpointIds(checkpoints, "migrating");

    const refused = await runOrKill(args(out, checkpoints, 3, 2));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("STATE_INCOMPATIBLE");
    expect(refused.stderr).toContain("state 'acc' of operator 'sums' was value {sum:number}, is now value {count:number,total:number}");
    expect(await completedCheckpointIds(checkpoints, "migrating")).toEqual(before);

    // Keyed by strings now: the number-keyed state would not be found, so the run is refused at its first batch.
    const retyped = await runOrKill(args(out, checkpoints, 1, 2, ["--param", "stringKeys=1"]));
    expect(retyped.code).toBe(1);
    expect(retyped.stderr).toContain("STATE_KEY_TYPE_CHANGED");
    expect(retyped.stderr).toMatch(/operator 'sums': its restored state is keyed by number keys, and this job's key "\d+" is a string/);

    const migrated = await runOrKill(args(out, checkpoints, 2, 3));
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stderr).toMatch(/migrated state 'acc' of operator 'sums' from version 1 to 2: \d+ values in subtask \d/);
    expect((await committedLines(out)).sort()).toEqual(expected);
  }, 90_000);
});
