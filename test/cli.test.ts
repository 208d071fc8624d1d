/**
 * The `weir` command end to end: spawns `node bin/weir.mjs` as a child process (cwd = repo root)
 * and checks exit codes, one-line error messages and the committed output of the example jobs
 * against answers computed independently here.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { transactions, type AccountTotal } from "../jobs/account-totals.ts";
import type { WordCount } from "../jobs/word-count.ts";

const repoRoot = resolve(fileURLToPath(new URL("..", import.meta.url)));

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/weir.mjs ...args` and resolves with its exit code and output (never rejects on exit code). */
let runs = 0;
/** Runs the CLI; every `run` gets its own checkpoint directory unless the test names one. */
const weir = (args: readonly string[], timeoutMs = 30_000): Promise<Outcome> =>
  new Promise((done, fail) => {
    const own = args[0] === "run" && !args.includes("--checkpoint-dir") ? ["--checkpoint-dir", join(tmp, `checkpoints-${runs++}`)] : [];
    execFile(
      process.execPath,
      ["bin/weir.mjs", ...args, ...own],
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          fail(new Error(`weir ${args.join(" ")} did not exit normally (${error.signal ?? error.code ?? error.message})\n${stderr}`));
          return;
        }
        done({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });

/** The stderr lines (without the trailing empty one). */
const lines = (text: string): string[] => text.split("\n").filter((l, i, all) => i < all.length - 1 || l !== "");
/** stderr's lines but the one naming the REST API's address (printed by every run that starts its server). */
const messageLines = (text: string): string[] => lines(text).filter((l) => !l.startsWith("weir: REST API and dashboard at "));

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-cli-"));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Part number n of `part-<run>-<subtask>-<n>-chk<checkpoint>.jsonl`, and its subtask. */
const partName = /^part-(.+)-(\d+)-(\d+)-chk\d+\.jsonl$/;

/** The committed output of a run, per sink subtask in part order (only non-hidden files count). */
const committedBySubtask = async (dir: string): Promise<Map<number, string[]>> => {
  const names = await readdir(dir);
  const parts = names
    .filter((n) => !n.startsWith("."))
    .map((n) => {
      const m = partName.exec(n);
      if (m === null) throw new Error(`unexpected file in output: ${n}`);
      return { name: n, subtask: Number(m[2]), n: Number(m[3]) };
    })
    .sort((a, b) => a.subtask - b.subtask || a.n - b.n);
  const bySubtask = new Map<number, string[]>();
  for (const part of parts) {
    const text = await readFile(join(dir, part.name), "utf8");
    const list = bySubtask.get(part.subtask) ?? [];
    list.push(...lines(text));
    bySubtask.set(part.subtask, list);
  }
  return bySubtask;
};

describe("weir run: example jobs", () => {
  test("word-count writes committed running counts whose last value per word is the word's count in the input", async () => {
    const out = join(tmp, "word-count");
    const result = await weir(["run", "jobs/word-count.ts", "--param", `out=${out}`, "--state-dir", join(tmp, "wc-state")]);
    expect(result.code, result.stderr).toBe(0);

    // Independent count.
    const text = await readFile(join(repoRoot, "data/lines.txt"), "utf8");
    const expected = new Map<string, number>();
    for (const line of text.split("\n")) {
      for (const word of line.toLowerCase().split(/[^\p{L}\p{N}']+/u)) {
        if (word.length > 0) expected.set(word, (expected.get(word) ?? 0) + 1);
      }
    }
    expect(expected.size).toBeGreaterThan(10);

    // Nothing left uncommitted after a finished bounded job.
    expect((await readdir(out)).filter((n) => n.startsWith("."))).toEqual([]);
    const output = [...(await committedBySubtask(out)).values()].flat().map((l) => JSON.parse(l) as WordCount);
    const last = new Map<string, number>();
    for (const { word, count } of output) {
      // Running counts: each word's counts go 1, 2, 3, ...
      expect(count).toBe((last.get(word) ?? 0) + 1);
      last.set(word, count);
    }
    expect(Object.fromEntries([...last].sort())).toEqual(Object.fromEntries([...expected].sort()));
  });

  test("account-totals writes the same lines at parallelism 1 and 3, with final totals equal to an independent sum", async () => {
    const events = 20_000;
    const runAt = async (parallelism: number) => {
      const out = join(tmp, `totals-p${parallelism}`);
      const result = await weir([
        "run",
        "jobs/account-totals.ts",
        "--parallelism",
        String(parallelism),
        "--param",
        `events=${events}`,
        "--param",
        `out=${out}`,
        "--state-dir",
        join(tmp, `totals-state-p${parallelism}`),
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect((await readdir(out)).filter((n) => n.startsWith("."))).toEqual([]);
      return committedBySubtask(out);
    };
    const [p1, p3] = await Promise.all([runAt(1), runAt(3)]);
    expect([...p1.keys()]).toEqual([0]);
    expect([...p3.keys()]).toEqual([0, 1, 2]);
    const all1 = [...p1.values()].flat();
    const all3 = [...p3.values()].flat();
    expect(all1).toHaveLength(events);
    expect([...all3].sort()).toEqual([...all1].sort());

    // Independent sum: regenerate the transactions with the job's defaults (1000 accounts, 4 splits, seed 42).
    const source = transactions({ events, accounts: 1_000, splits: 4, seed: 42 });
    const context = { now: () => 0, jobName: "t", runId: "r" };
    const sums = new Map<number, number>();
    let generated = 0;
    for (const split of await source.splits(context)) {
      const reader = await source.openReader(split, undefined, context);
      for (;;) {
        const result = await reader.read(4096);
        if (result.kind === "end") break;
        if (result.kind !== "records") throw new Error("a bounded, unpaced generator must not be idle");
        for (const t of result.records) sums.set(t.account, (sums.get(t.account) ?? 0) + t.amount);
        generated += result.records.length;
      }
      await reader.close();
    }
    expect(generated).toBe(events);

    for (const bySubtask of [p1, p3]) {
      // Each account is kept by one subtask; its last line there holds its final total.
      const last = new Map<number, { total: number; subtask: number }>();
      for (const [subtask, text] of bySubtask) {
        for (const line of text) {
          const { account, total } = JSON.parse(line) as AccountTotal;
          const seen = last.get(account);
          if (seen !== undefined) expect(seen.subtask).toBe(subtask);
          last.set(account, { total, subtask });
        }
      }
      expect(new Map([...last].map(([account, { total }]) => [account, total]))).toEqual(sums);
    }
  });
});

describe("weir run: errors are one line naming what failed", () => {
  test("a missing job file exits 1 naming the path and JOB_FILE_NOT_FOUND", async () => {
    const missing = "jobs/no-such-job-here.ts";
    const result = await weir(["run", missing]);
    expect(result.code).toBe(1);
    const stderr = lines(result.stderr);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toContain(missing);
    expect(stderr[0]).toContain("JOB_FILE_NOT_FOUND");
  });

  test("a module that exports no job exits 1 with NOT_A_JOB naming the file", async () => {
    const file = "test/fixtures/not-a-job.ts";
    const result = await weir(["run", file]);
    expect(result.code).toBe(1);
    const stderr = lines(result.stderr);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toContain("NOT_A_JOB");
    expect(stderr[0]).toContain(file);
  });

  test("a missing input exits 1 with one line naming the input, the job file and INPUT_NOT_FOUND", async () => {
    const input = join(tmp, "no-such-input.txt");
    const result = await weir([
      "run",
      "jobs/word-count.ts",
      "--param",
      `input=${input}`,
      "--param",
      `out=${join(tmp, "never-written")}`,
      "--state-dir",
      join(tmp, "missing-input-state"),
    ]);
    expect(result.code).toBe(1);
    const stderr = messageLines(result.stderr);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toContain(input);
    expect(stderr[0]).toContain("jobs/word-count.ts");
    expect(stderr[0]).toContain("INPUT_NOT_FOUND");
  });

  test("a --param without '=' exits non-zero with a message naming it", async () => {
    const result = await weir(["run", "jobs/word-count.ts", "--param", "justakey", "--state-dir", join(tmp, "bad-param-state")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("justakey");
    expect(lines(result.stderr)).toHaveLength(1);
  });

  test("a bad --parallelism is a command-line error (exit 2) naming the flag", async () => {
    const result = await weir(["run", "jobs/word-count.ts", "--parallelism", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--parallelism");
  });

  test("a throwing user function exits 1 naming the operator, the job file and USER_FUNCTION_FAILED", async () => {
    const file = "test/fixtures/throwing-job.ts";
    const result = await weir(["run", file, "--state-dir", join(tmp, "throwing-state")]);
    expect(result.code).toBe(1);
    const stderr = messageLines(result.stderr);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toContain("explode-on-seven");
    expect(stderr[0]).toContain(file);
    expect(stderr[0]).toContain("USER_FUNCTION_FAILED");
    expect(stderr[0]).toContain("boom at seven");
  });
});

describe("weir help", () => {
  test("weir --help exits 0 and lists the run command", async () => {
    const result = await weir(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\brun\b/);
  });

  test("weir --help mentions --parallelism and --param", async () => {
    const result = await weir(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--parallelism");
    expect(result.stdout).toContain("--param");
  });

  test("weir run --help exits 0 and mentions --parallelism and --param", async () => {
    const result = await weir(["run", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--parallelism");
    expect(result.stdout).toContain("--param");
  });
});
