/**
 * Golden equality for the example jobs: run straight, run with checkpoints and killed with
 * SIGKILL mid-run, and restored at another parallelism, each gives the same committed output
 * (same lines, same per-key order).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SeededRandom } from "../connectors/random.ts";
import { committedLines, hasCompletedCheckpoint, hiddenFiles, runOrKill, runUntil, sequencesBy } from "./support/weir-process.ts";

let tmp: string;
let input: string;

const WORDS = ["weir", "river", "flood", "mill", "grain", "heron", "ladder", "water", "stream", "record", "state", "barrier", "Été", "naïve"];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-golden-"));
  input = join(tmp, "lines.txt");
  const random = new SeededRandom().reseed(1, 2, 3);
  const lines: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    const n = 1 + random.int(12);
    lines.push(Array.from({ length: n }, () => WORDS[random.int(WORDS.length)]! + (random.int(10) === 0 ? String(random.int(300)) : "")).join(" "));
  }
  await writeFile(input, `${lines.join("\n")}\n`);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const examples = [
  {
    job: "word-count",
    key: "word",
    args: (out: string) => ["jobs/word-count.ts", "--param", `input=${input}`, "--param", `out=${out}`],
  },
  {
    job: "account-totals",
    key: "account",
    args: (out: string) => ["jobs/account-totals.ts", "--param", "events=40000", "--param", "rate=25000", "--param", `out=${out}`],
  },
];

describe.each(examples)("golden output of $job", ({ job, key, args }) => {
  it("is the same straight, with checkpoints and kill -9, and restored at another parallelism", async () => {
    const straightOut = join(tmp, `${job}-straight`);
    const straight = await runOrKill(["run", ...args(straightOut), "--checkpoint-dir", join(tmp, `${job}-s-chk`), "--checkpoint-interval", "off", "--no-progress", "--workers", "0"]);
    expect(straight.code, straight.stderr).toBe(0);
    const expected = await committedLines(straightOut);
    expect(expected.length).toBeGreaterThan(1_000);

    const out = join(tmp, `${job}-crashed`);
    const checkpoints = join(tmp, `${job}-c-chk`);
    const common = ["--checkpoint-dir", checkpoints, "--checkpoint-interval", "100ms", "--no-progress"];
    // Killed on two worker threads, resumed rescaled on three.
    const killed = await runUntil(["run", ...args(out), ...common, "--parallelism", "2", "--workers", "2", "--state-backend", "rocksdb"], hasCompletedCheckpoint(checkpoints, job));
    expect(killed.killedByUs, "the run must be killed mid-way").toBe(true);
    const resumed = await runOrKill(["run", ...args(out), ...common, "--parallelism", "3", "--workers", "3"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming '${job}' from checkpoint \\d+`));

    const got = await committedLines(out);
    expect([...got].sort()).toEqual([...expected].sort());
    expect(sequencesBy(got, key)).toEqual(sequencesBy(expected, key));
    expect(await hiddenFiles(out)).toEqual([]);
  }, 60_000);
});
