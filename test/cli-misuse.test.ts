/**
 * API misuse through `weir run` as a real process: an async user function fails the job with one
 * line naming the operator and the job file, and commits nothing; event time without watermarks
 * is warned about once at start.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { committedLines, runOrKill } from "./support/weir-process.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-cli-misuse-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let runs = 0;
/** `weir run <file>` with its own checkpoint, state and output directories; `lines`: stderr but the REST address line. */
const run = async (file: string, params: string[] = []) => {
  const dir = join(tmp, `run-${runs++}`);
  const out = join(dir, "out");
  const args = ["run", file, "--checkpoint-dir", join(dir, "chk"), "--state-dir", join(dir, "state"), "--no-progress", "--param", `out=${out}`];
  for (const p of params) args.push("--param", p);
  const exit = await runOrKill(args);
  return { exit, out, lines: exit.stderr.split("\n").filter((l) => l.length > 0 && !l.startsWith("weir: REST API and dashboard at ")) };
};

describe("weir run: API misuse", () => {
  test("an async map function exits 1 with one line naming the operator, the job file and ASYNC_USER_FUNCTION, and commits nothing", async () => {
    const file = "test/fixtures/async-map-job.ts";
    const { exit, out, lines } = await run(file);
    expect(exit.code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("ASYNC_USER_FUNCTION");
    expect(lines[0]).toContain(file);
    expect(lines[0]).toContain("operator 'lookup' returned a Promise for record 0");
    expect(lines[0]).toContain("Weir functions must be synchronous");
    expect(await committedLines(out)).toEqual([]);
  });

  test("an event-time window downstream of a source without watermarks is warned about once, naming both and the fix", async () => {
    const { exit, out, lines } = await run("test/fixtures/event-time-job.ts");
    expect(exit.code).toBe(0);
    const warnings = lines.filter((l) => l.includes("warning"));
    expect(warnings).toEqual([
      `weir: warning: source 'ticks' has no watermark strategy, so event-time operator 'counts' will fire only at the end of input; ` +
        `give the source one: env.source(..., { watermarks: boundedOutOfOrderness((r) => r.time, "5s") })`,
    ]);
    // Still correct at the end of input: every window fired.
    const counts = (await committedLines(out)).map((l) => JSON.parse(l) as { n: number });
    expect(counts.reduce((sum, c) => sum + c.n, 0)).toBe(100);
  });

  test("no warning when the source has a watermark strategy", async () => {
    const { exit, out, lines } = await run("test/fixtures/event-time-job.ts", ["watermarks=on"]);
    expect(exit.code).toBe(0);
    expect(lines.filter((l) => l.includes("warning"))).toEqual([]);
    const counts = (await committedLines(out)).map((l) => JSON.parse(l) as { n: number });
    expect(counts.reduce((sum, c) => sum + c.n, 0)).toBe(100);
  });
});
