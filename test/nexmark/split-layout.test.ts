/**
 * The Nexmark source's split ids name the split count (`p<P>-<k>`), and the runtime refuses a
 * restore whose checkpoint holds positions of splits the source does not list: resuming a job
 * with another split count (here: the default, the parallelism, changed from 2 to 3) fails with
 * a user error instead of reading the new splits from the start.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasCompletedCheckpoint, runOrKill, runUntil } from "../support/weir-process.ts";

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-nexmark-splits-"));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("Nexmark split layout and restore", () => {
  it("a checkpoint taken with 2 splits is not resumed with 3: the run names the unknown splits", async () => {
    const checkpoints = join(tmp, "chk");
    const args = (parallelism: number) => [
      "run",
      "jobs/nexmark/q0.ts",
      "--param",
      "events=30000",
      "--param",
      "rate=12000",
      "--param",
      "sink=discard",
      "--parallelism",
      String(parallelism),
      "--checkpoint-dir",
      checkpoints,
      "--checkpoint-interval",
      "100ms",
      "--restart-attempts",
      "0",
      "--no-progress",
    ];
    const first = await runUntil(args(2), hasCompletedCheckpoint(checkpoints, "nexmark-q0"));
    expect(first.killedByUs, "the first run must be killed mid-way").toBe(true);
    const resumed = await runOrKill(args(3));
    expect(resumed.code).not.toBe(0);
    expect(resumed.stderr).toMatch(/holds positions of splits that source 'nexmark' does not list \(p2-0, p2-1; it lists p3-0, p3-1, p3-2\)/);
    const same = await runOrKill(args(2));
    expect(same.code, same.stderr).toBe(0);
  }, 60_000);
});
