/**
 * `--allow-non-restored-state`, as Flink's: a checkpoint holding state of operators the job no
 * longer has is refused (naming them and the flag, changing nothing); with the flag that state is
 * dropped with a line naming it, and the rest of the job resumes exactly once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedLines, completedCheckpointIds, hasCompletedCheckpoint, runOrKill, runUntil } from "./support/weir-process.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-non-restored-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const args = (out: string, checkpoints: string, extra: 0 | 1, more: readonly string[] = []) => [
  "run",
  "test/fixtures/optional-operator-job.ts",
  "--param",
  `out=${out}`,
  "--param",
  `extra=${extra}`,
  "--checkpoint-dir",
  checkpoints,
  "--checkpoint-interval",
  "200ms",
  "--parallelism",
  "2",
  "--no-progress",
  "--no-ui",
  ...more,
];

describe("--allow-non-restored-state", () => {
  it("drops the state of an operator the job no longer has only when asked, and the rest (renamed, same uid) resumes exactly once", async () => {
    const straight = join(tmp, "straight");
    const s = await runOrKill(args(straight, join(tmp, "straight-chk"), 0, ["--param", "rate=1000000"]));
    expect(s.code, s.stderr).toBe(0);
    const expected = (await committedLines(straight)).sort();
    expect(expected).toHaveLength(20_000);

    const out = join(tmp, "out");
    const checkpoints = join(tmp, "chk");
    const first = await runUntil(args(out, checkpoints, 1), hasCompletedCheckpoint(checkpoints, "optional-operator"));
    expect(first.killedByUs).toBe(true);
    const before = await completedCheckpointIds(checkpoints, "optional-operator");

    const refused = await runOrKill(args(out, checkpoints, 0));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/CHECKPOINT_OPERATORS_MISMATCH/);
    expect(refused.stderr).toContain("extra-count");
    expect(refused.stderr).toContain("--allow-non-restored-state");
    expect(await completedCheckpointIds(checkpoints, "optional-operator")).toEqual(before);

    // Also renamed: its uid stays, so its state is restored (were it dropped, the totals would differ).
    const resumed = await runOrKill(args(out, checkpoints, 0, ["--allow-non-restored-state", "--param", "label=Running totals"]));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/dropped \(--allow-non-restored-state\): extra-count, extra-out$/m);
    expect((await committedLines(out)).sort()).toEqual(expected);
  }, 90_000);
});
