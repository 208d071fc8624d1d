/**
 * `weir verify` as a user runs it, on small jobs: correct jobs pass, and each deliberately broken
 * job under test/fixtures/verify/ is reported broken at the right sink, with the right operator
 * and cause. Seeds are fixed so that a failure replays; each run's verdict lines are asserted
 * exactly (exit code, sink, operator, cause).
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/weir-process.ts";

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const verify = (args: readonly string[]): Promise<Result> =>
  new Promise((done) => {
    const child = spawn(process.execPath, [join(repoRoot, "bin/weir.mjs"), "verify", ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: "1", WEIR_FAILPOINT: "", TMPDIR: scratchRoot },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => done({ code, stdout, stderr }));
  });

const lines = (r: Result) => r.stdout.trim().split("\n");
const line = (r: Result, prefix: string) => lines(r).find((l) => l.startsWith(prefix));
const keptScratch = (r: Result) => /scratch directory kept: (\S+)/.exec(r.stdout)?.[1];
const scratchDirs = async () => (await readdir(scratchRoot)).filter((n) => n.startsWith("weir-verify-"));

let tmp: string;
/** The verify processes' temp directory (TMPDIR): their scratch directories, apart from other processes' on this machine. */
let scratchRoot: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-verify-test-"));
  scratchRoot = join(tmp, "scratch");
  await mkdir(scratchRoot);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const small = ["--kills", "2", "--parallelism-range", "1..2"];

describe("weir verify passes correct jobs", () => {
  it("a keyed process job (account-totals): every sink OK, per-key order checked, exit 0, scratch removed", async () => {
    const before = await scratchDirs();
    // Seed 24's schedule: run 1 dies at the first asynchronous snapshot, run 2 at a moment (schedule.test.ts draws the same).
    const r = await verify(["jobs/account-totals.ts", "--param", "events=4000", "--param", "accounts=40", "--param", "rate=4000", "--seed", "24", ...small]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(lines(r)).toEqual([
      expect.stringMatching(/^job 'account-totals', seed 24: [12] kills delivered$/),
      "sink 'totals': OK: 4000 records, the same as the failure-free run (per-key order checked)",
      expect.stringMatching(/^verdict: OK: .*--seed 24 --parallelism-range 1\.\.2\)$/),
    ]);
    expect(r.stderr).toMatch(/run 1 \(parallelism 1, SIGKILL at failpoint 'async-snapshot' \(hit 1\) or \d+ ms into processing\): killed at the failpoint/);
    expect(await scratchDirs()).toEqual(before);
  }, 120_000);

  it("word count (keyed reduce over a file) with --real-sinks: its own file sink is read back and matches", async () => {
    const r = await verify(["jobs/word-count.ts", "--real-sinks", "--param", `out=${join(tmp, "word-count")}`, "--seed", "4", ...small]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Read back from the job's own directory the records carry no keys: a multiset check.
    expect(line(r, "sink 'counts':")).toMatch(/^sink 'counts': OK: \d+ records, the same as the failure-free run$/);
    expect((await readdir(join(tmp, "word-count"))).some((n) => n.endsWith(".jsonl"))).toBe(true);
  }, 120_000);
});

describe("weir verify passes correct jobs whatever their operators", () => {
  it("async I/O (asyncMap behind a source with watermarks, a map reading the results): OK, as without verify", async () => {
    const r = await verify(["test/fixtures/verify/async-enrich-job.ts", "--param", "records=600", "--param", "rate=1000", "--seed", "24", ...small]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(line(r, "job ")).toMatch(/ seed 24: [12] kills delivered$/);
    expect(line(r, "sink 'labels':")).toBe("sink 'labels': OK: 1200 records, the same as the failure-free run");
  }, 120_000);

  it("a keyed process function with a selected side output and a sink of parallelism 1, over parallelism 1..3: both sinks OK", async () => {
    // Seed 4's schedule runs at parallelism 1, then 2, then 3 (schedule.ts).
    const r = await verify(["test/fixtures/verify/keyed-side-output-job.ts", "--param", "records=600", "--param", "rate=1000", "--seed", "4", "--kills", "2", "--parallelism-range", "1..3"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(line(r, "job ")).toMatch(/ seed 4: [12] kills delivered$/);
    // The main sink has another parallelism than the process function: a multiset check (no per-key order).
    expect(line(r, "sink 'main':")).toBe("sink 'main': OK: 960 records, the same as the failure-free run");
    expect(line(r, "sink 'fifth':")).toBe("sink 'fifth': OK: 240 records, the same as the failure-free run");
  }, 180_000);
});

describe("weir verify catches broken jobs", () => {
  it("a global counter in a map: the sink differs, first divergence at the map, state kept outside Weir", async () => {
    const r = await verify(["test/fixtures/verify/global-counter-job.ts", "--seed", "11", ...small]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(line(r, "sink 'numbered':")).toMatch(/^sink 'numbered': DIFFERS: 3000 records where the failure-free run committed 3000: \d+ records lost .*; \d+ differing/);
    expect(line(r, "first divergence:")).toBe("first divergence: operator 'number-them'");
    expect(line(r, "cause:")).toMatch(/^cause: state-outside-weir: operator 'number-them' \(not keyed: no Weir state\): its output differs after crashes from the same input/);
    expect(line(r, "verdict:")).toMatch(/^verdict: FAILED: 1 of 1 sinks differ from the failure-free run; replay: weir verify test\/fixtures\/verify\/global-counter-job.ts --kills 2 --seed 11 --parallelism-range 1\.\.2$/);
    const scratch = keptScratch(r);
    expect(scratch).toBeDefined();
    await rm(scratch!, { recursive: true, force: true });
  }, 180_000);

  it("a random key selector before a reduce: not reproducible, named at the reduce", async () => {
    const r = await verify(["test/fixtures/verify/random-key-job.ts", "--seed", "5", ...small]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(line(r, "sink 'sums':")).toMatch(/^sink 'sums': DIFFERS: /);
    expect(line(r, "first divergence:")).toBe("first divergence: operator 'add-up'");
    expect(line(r, "cause:")).toMatch(/^cause: non-deterministic: operator 'add-up' \(keyed\): two failure-free runs of the job differ first here.*key selector/);
    await rm(keptScratch(r)!, { recursive: true, force: true });
  }, 180_000);

  it("an at-least-once sink under --real-sinks: duplicates, first divergence at the sink; a sink that cannot be read back is skipped", async () => {
    const out = join(tmp, "appended.jsonl");
    const r = await verify(["test/fixtures/verify/at-least-once-sink-job.ts", "--real-sinks", "--param", `out=${out}`, "--seed", "11", ...small]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(line(r, "sink 'appended':")).toMatch(/^sink 'appended': DIFFERS: \d+ records where the failure-free run committed 3000: \d+ duplicated \(e\.g\. \{"split":\d,"index":\d+,"square":\d+\}/);
    expect(line(r, "sink 'appended':")).not.toMatch(/lost|differing/);
    expect(line(r, "sink 'dropped':")).toBe(
      "sink 'dropped': SKIPPED: Weir cannot read back what its sink 'discard' committed (it has no readCommitted, or a custom encoder); only its input is compared (the taps of the operators feeding it)",
    );
    expect(line(r, "first divergence:")).toBe("first divergence: sink 'appended'");
    expect(line(r, "cause:")).toMatch(/^cause: at-least-once-sink: sink 'appended' \(appending-file\): its input matched but what it committed did not/);
    await rm(keptScratch(r)!, { recursive: true, force: true });
  }, 180_000);

  it("the same at-least-once job passes without --real-sinks: its sinks are redirected, its logic is exactly-once", async () => {
    const r = await verify(["test/fixtures/verify/at-least-once-sink-job.ts", "--param", `out=${join(tmp, "unused.jsonl")}`, "--seed", "11", ...small]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(line(r, "sink 'appended':")).toBe("sink 'appended': OK: 3000 records, the same as the failure-free run");
    expect(line(r, "sink 'dropped':")).toBe("sink 'dropped': OK: 3000 records, the same as the failure-free run");
  }, 180_000);
});

describe("weir verify when the job itself fails", () => {
  it("exits 1 naming the run and the job's own error", async () => {
    const r = await verify(["test/fixtures/throwing-job.ts", "--seed", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/weir: the failure-free run of test\/fixtures\/throwing-job.ts failed \(exit 1\): .*boom at seven.* \(VERIFY_RUN_FAILED\)/);
    await rm(keptScratch(r)!, { recursive: true, force: true });
  }, 60_000);
});

describe("weir verify usage errors exit 2", () => {
  it("a bad parallelism range", async () => {
    const r = await verify(["jobs/word-count.ts", "--parallelism-range", "3..1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--parallelism-range takes a range like 1..4 (or one number), got '3..1'");
  }, 30_000);

  it("--real-sinks with a sink that already holds output", async () => {
    const out = join(tmp, "full.jsonl");
    await writeFile(out, '{"split":0,"index":0,"square":0}\n');
    const r = await verify(["test/fixtures/verify/at-least-once-sink-job.ts", "--real-sinks", "--param", `out=${out}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("sink 'appended' already holds 1 committed records: --real-sinks needs the job's sinks to start empty");
  }, 30_000);
});
